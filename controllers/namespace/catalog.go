package namespace

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// CatalogSeededAnnotation on the catalog namespace records that the default
// classes were installed. Later starts leave the catalog to the vSphere
// admin: a default class the admin deleted stays deleted, as in vCenter.
const CatalogSeededAnnotation = "vsphere.opensupervisor.io/default-classes-installed"

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineclasses,verbs=get;list;watch;create

// EnsureCatalog makes sure the class catalog namespace exists and, unless
// it was seeded before, holds every default class: it creates only the
// missing ones, so a class an admin edited keeps the admin's spec. It is
// safe to call concurrently and repeatedly. It returns how many classes it
// created. Reads go through r (uncached), writes through c.
func EnsureCatalog(ctx context.Context, c client.Client, r client.Reader) (int, error) {
	name := vspherev1.VMClassCatalogNamespace
	ns := &corev1.Namespace{}
	err := r.Get(ctx, client.ObjectKey{Name: name}, ns)
	if apierrors.IsNotFound(err) {
		ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		err = c.Create(ctx, ns)
		if apierrors.IsAlreadyExists(err) {
			err = r.Get(ctx, client.ObjectKey{Name: name}, ns)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("failed to get or create the VM class catalog namespace %s: %w", name, err)
	}
	if ns.Annotations[CatalogSeededAnnotation] == "true" {
		return 0, nil
	}
	var existing vmopv1.VirtualMachineClassList
	if err := r.List(ctx, &existing, client.InNamespace(name)); err != nil {
		return 0, fmt.Errorf("failed to list the VM classes of the catalog %s: %w", name, err)
	}
	have := map[string]bool{}
	for _, cl := range existing.Items {
		have[cl.Name] = true
	}
	created := 0
	for _, class := range DefaultClasses(name) {
		if have[class.Name] {
			continue
		}
		switch err := c.Create(ctx, class); {
		case err == nil:
			created++
		case apierrors.IsAlreadyExists(err):
		default:
			return created, fmt.Errorf("failed to create VirtualMachineClass %s in the catalog %s: %w", class.Name, name, err)
		}
	}
	// Recorded last: a start that failed half-way completes the seeding.
	patch := client.MergeFrom(ns.DeepCopy())
	if ns.Annotations == nil {
		ns.Annotations = map[string]string{}
	}
	ns.Annotations[CatalogSeededAnnotation] = "true"
	if err := c.Patch(ctx, ns, patch); err != nil {
		return created, fmt.Errorf("failed to mark the VM class catalog %s as seeded: %w", name, err)
	}
	return created, nil
}

// CatalogSeeder is a manager Runnable that runs EnsureCatalog once the
// manager is leader, retrying with back-off until it succeeds or the
// manager stops. A failure never stops the manager: the catalog is
// needed by vSphere Namespaces, not by the rest of the supervisor.
type CatalogSeeder struct {
	Client client.Client
	Reader client.Reader
}

// Start seeds the catalog.
func (s *CatalogSeeder) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithValues("controller", "vmclass-catalog", "Namespace", vspherev1.VMClassCatalogNamespace)
	backoff := wait.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 1 << 30, Cap: 30 * time.Second}
	_ = wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
		created, err := EnsureCatalog(ctx, s.Client, s.Reader)
		if err != nil {
			log.Error(err, "Failed to seed the VM class catalog; retrying")
			return false, nil
		}
		if created > 0 {
			log.Info("Installed the default VM classes in the catalog", "count", created)
		}
		return true, nil
	})
	return nil
}

// NeedLeaderElection: only the leader writes the catalog.
func (s *CatalogSeeder) NeedLeaderElection() bool { return true }
