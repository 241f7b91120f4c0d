package kube

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/open-supervisor/supervisor/test/wait"
)

const timeout = 30 * time.Second

// What a cluster's kube-controller-manager does, the embedded control
// plane does: owners' deletions cascade, deleted namespaces empty and go,
// claims get and lose their protection finalizer, service-account token
// Secrets get tokens; and Stop stops the controller manager too.
func TestControllerManager(t *testing.T) {
	env, err := StartWith(Options{})
	if err != nil {
		t.Fatal(err)
	}
	cm := env.controllerManager
	defer func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
		select {
		case <-cm.exited:
		default:
			t.Error("kube-controller-manager still runs after Stop")
		}
		if _, err := os.Stat(cm.tempDir); !os.IsNotExist(err) {
			t.Errorf("kube-controller-manager's directory %s is left behind (%v)", cm.tempDir, err)
		}
	}()
	c, err := client.New(env.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "kube-test-"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}

	t.Run("garbage collector", func(t *testing.T) {
		owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "owner"}}
		if err := c.Create(ctx, owner); err != nil {
			t.Fatal(err)
		}
		dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "dependent"}}
		if err := controllerutil.SetControllerReference(owner, dependent, c.Scheme()); err != nil {
			t.Fatal(err)
		}
		if err := c.Create(ctx, dependent); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, owner); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c, dependent)
	})

	t.Run("PVC protection", func(t *testing.T) {
		pvc := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}
		if err := c.Create(ctx, pvc); err != nil {
			t.Fatal(err)
		}
		if !controllerutil.ContainsFinalizer(pvc, "kubernetes.io/pvc-protection") {
			t.Errorf("claim finalizers %v: StorageObjectInUseProtection is not admitting claims", pvc.Finalizers)
		}
		if err := c.Delete(ctx, pvc); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c, pvc)
	})

	t.Run("service account token", func(t *testing.T) {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "robot"}}
		if err := c.Create(ctx, sa); err != nil {
			t.Fatal(err)
		}
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "robot-token", Annotations: map[string]string{corev1.ServiceAccountNameKey: sa.Name}},
			Type:       corev1.SecretTypeServiceAccountToken,
		}
		if err := c.Create(ctx, secret); err != nil {
			t.Fatal(err)
		}
		wait.For(t, timeout, "the token Secret to carry a token", func() (bool, error) {
			if err := c.Get(ctx, client.ObjectKeyFromObject(secret), secret); err != nil {
				return false, err
			}
			return len(secret.Data[corev1.ServiceAccountTokenKey]) > 0 && len(secret.Data[corev1.ServiceAccountRootCAKey]) > 0, nil
		})
	})

	t.Run("namespace deletion", func(t *testing.T) {
		if err := c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "content"}}); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, ns); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c, ns)
	})
}

// An assets directory without kube-controller-manager is refused with
// what to do about it.
func TestMissingControllerManager(t *testing.T) {
	_, err := StartWith(Options{AssetsDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), controllerManagerBinary) || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("StartWith in an empty directory = %v; want an error naming kube-controller-manager and `make tools`", err)
	}
}

func waitGone(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	wait.For(t, timeout, obj.GetName()+" to be gone", func() (bool, error) {
		err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err == nil {
			return false, &stillThere{obj}
		}
		return false, err
	})
}

type stillThere struct{ obj client.Object }

func (e *stillThere) Error() string {
	return e.obj.GetName() + " still exists, finalizers " + strings.Join(e.obj.GetFinalizers(), ",")
}
