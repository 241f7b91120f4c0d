package guestsim

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/conditions"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta1"
	"github.com/open-supervisor/supervisor/test/envtest"
	"github.com/open-supervisor/supervisor/test/wait"
)

const kubernetesVersion = "v1.35.0"

// TestGuestClusterComesUp drives a Cluster with a one-replica
// KubeadmControlPlane and a one-replica MachineDeployment on our
// infrastructure types, the test playing the infrastructure provider with
// the control-plane VM's address as the endpoint. The simulated guests must
// satisfy Cluster API: the Nodes appear in the guest cluster through the
// kubeconfig KubeadmControlPlane wrote (so through the TLS endpoint on the
// VM's address), Machines get their nodeRefs, and KubeadmControlPlane finds
// etcd and the control-plane components healthy. Then the worker is powered
// off and on, and deleting the VMs removes the guest cluster.
func TestGuestClusterComesUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ns := envtest.NewNamespace(t, testClient, "guestsim-", nil)
	const name = "guest"
	const cpIP = "127.21.0.10"
	key := types.NamespacedName{Namespace: ns, Name: name}

	createCluster(ctx, t, ns, name, cpIP, 1)
	go newFakeInfra(ns, cpIP).run(ctx, t)

	cp := waitForMachine(ctx, t, ns, client.HasLabels{clusterv1.MachineControlPlaneLabel})
	guest := guestClusterClient(ctx, t, key)
	wait.For(t, 2*time.Minute, "the control-plane Node in the guest cluster, through "+cpIP+":6443", func() (bool, error) {
		node := &corev1.Node{}
		err := guest.Get(ctx, client.ObjectKey{Name: cp.Name}, node)
		if err != nil {
			return false, err
		}
		if node.Spec.ProviderID == "" || node.Status.NodeInfo.KubeletVersion != kubernetesVersion {
			t.Fatalf("Node %s: providerID %q, kubeletVersion %q", node.Name, node.Spec.ProviderID, node.Status.NodeInfo.KubeletVersion)
		}
		return true, nil
	})
	waitForNodeRef(ctx, t, cp)

	kcp := &controlplanev1.KubeadmControlPlane{}
	wait.For(t, 2*time.Minute, "KubeadmControlPlane initialized and available, etcd and components healthy", func() (bool, error) {
		err := testClient.Get(ctx, key, kcp)
		return err == nil && ptr.Deref(kcp.Status.Initialization.ControlPlaneInitialized, false) &&
			conditions.IsTrue(kcp, controlplanev1.KubeadmControlPlaneEtcdClusterHealthyCondition) &&
			conditions.IsTrue(kcp, controlplanev1.KubeadmControlPlaneControlPlaneComponentsHealthyCondition) &&
			conditions.IsTrue(kcp, controlplanev1.KubeadmControlPlaneAvailableCondition), err
	})

	worker := waitForMachine(ctx, t, ns, client.MatchingLabels{clusterv1.MachineDeploymentNameLabel: name})
	waitForNodeRef(ctx, t, worker)
	assertHealthCheck(t, cpIP)

	// A powered-off guest loses its Node; powered on again it rejoins.
	vm := &vmopv1.VirtualMachine{}
	must(t, testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: worker.Name}, vm))
	ip := vm.Status.Network.PrimaryIP4
	must(t, setPoweredOff(ctx, vm))
	waitForNode(ctx, t, guest, worker.Name, false)
	must(t, setRunning(ctx, vm, ip))
	waitForNode(ctx, t, guest, worker.Name, true)

	// Deleting the cluster's last VM removes the guest cluster and closes
	// the API endpoint.
	for _, m := range []string{worker.Name, cp.Name} {
		must(t, testClient.Delete(ctx, &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: m}}))
	}
	wait.For(t, 30*time.Second, "the guest cluster to be removed", func() (bool, error) {
		_, ok := sim.GuestClient(key)
		return !ok, nil
	})
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort(cpIP, "6443"), time.Second); err == nil {
		_ = conn.Close()
		t.Errorf("%s:6443 still accepts connections after its VM was deleted", cpIP)
	}
}

// createCluster creates a Cluster on VSphereCluster with a KubeadmControlPlane
// and a MachineDeployment of workers, and plays the infrastructure provider
// for the VSphereCluster: endpoint cpIP:6443, provisioned.
func createCluster(ctx context.Context, t *testing.T, ns, name, cpIP string, workers int32) {
	t.Helper()
	infraTemplate := clusterv1.ContractVersionedObjectReference{APIGroup: vmwarev1.GroupVersion.Group, Kind: "VSphereMachineTemplate", Name: name}
	vsc := &vmwarev1.VSphereCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       vmwarev1.VSphereClusterSpec{ControlPlaneEndpoint: clusterv1.APIEndpoint{Host: cpIP, Port: 6443}},
	}
	objs := []client.Object{
		vsc,
		&vmwarev1.VSphereMachineTemplate{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: vmwarev1.VSphereMachineTemplateSpec{Template: vmwarev1.VSphereMachineTemplateResource{
				Spec: vmwarev1.VSphereMachineSpec{ImageName: "ubuntu-2204-" + kubernetesVersion, ClassName: "best-effort-small"},
			}},
		},
		&bootstrapv1.KubeadmConfigTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}},
		&controlplanev1.KubeadmControlPlane{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: controlplanev1.KubeadmControlPlaneSpec{
				Replicas: ptr.To[int32](1),
				Version:  kubernetesVersion,
				MachineTemplate: controlplanev1.KubeadmControlPlaneMachineTemplate{
					Spec: controlplanev1.KubeadmControlPlaneMachineTemplateSpec{InfrastructureRef: infraTemplate},
				},
			},
		},
		&clusterv1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: clusterv1.ClusterSpec{
				InfrastructureRef: clusterv1.ContractVersionedObjectReference{APIGroup: vmwarev1.GroupVersion.Group, Kind: "VSphereCluster", Name: name},
				ControlPlaneRef: clusterv1.ContractVersionedObjectReference{
					APIGroup: controlplanev1.GroupVersion.Group, Kind: "KubeadmControlPlane", Name: name},
			},
		},
		&clusterv1.MachineDeployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: clusterv1.MachineDeploymentSpec{
				ClusterName: name,
				Replicas:    ptr.To(workers),
				Template: clusterv1.MachineTemplateSpec{Spec: clusterv1.MachineSpec{
					ClusterName: name,
					Version:     kubernetesVersion,
					Bootstrap: clusterv1.Bootstrap{ConfigRef: clusterv1.ContractVersionedObjectReference{
						APIGroup: bootstrapv1.GroupVersion.Group, Kind: "KubeadmConfigTemplate", Name: name}},
					InfrastructureRef: infraTemplate,
				}},
			},
		},
	}
	for _, o := range objs {
		if err := testClient.Create(ctx, o); err != nil {
			t.Fatalf("failed to create %T %s: %v", o, name, err)
		}
	}
	vsc.Status.Initialization.Provisioned = ptr.To(true)
	must(t, testClient.Status().Update(ctx, vsc))
}

// waitForMachine returns the one Machine of ns matching sel once it exists.
func waitForMachine(ctx context.Context, t *testing.T, ns string, sel client.ListOption) *clusterv1.Machine {
	t.Helper()
	m := &clusterv1.Machine{}
	wait.For(t, time.Minute, "a Machine "+describe(sel), func() (bool, error) {
		list := &clusterv1.MachineList{}
		err := testClient.List(ctx, list, client.InNamespace(ns), sel)
		if err != nil || len(list.Items) != 1 {
			return false, err
		}
		*m = list.Items[0]
		return true, nil
	})
	return m
}

func describe(sel client.ListOption) string {
	if _, ok := sel.(client.HasLabels); ok {
		return "of the control plane"
	}
	return "of the MachineDeployment"
}

// waitForNodeRef waits until the Machine controller found m's Node.
func waitForNodeRef(ctx context.Context, t *testing.T, m *clusterv1.Machine) {
	t.Helper()
	wait.For(t, 2*time.Minute, "Machine "+m.Name+" to get its nodeRef", func() (bool, error) {
		err := testClient.Get(ctx, client.ObjectKeyFromObject(m), m)
		return err == nil && m.Status.NodeRef.Name == m.Name, err
	})
}

// guestClusterClient is a client of the guest cluster built from the
// kubeconfig Secret KubeadmControlPlane wrote (server: the endpoint).
func guestClusterClient(ctx context.Context, t *testing.T, key types.NamespacedName) client.Client {
	t.Helper()
	s := &corev1.Secret{}
	wait.For(t, time.Minute, "the kubeconfig Secret", func() (bool, error) {
		err := testClient.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: key.Name + "-kubeconfig"}, s)
		return err == nil, err
	})
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data["value"])
	must(t, err)
	cfg.Timeout = 5 * time.Second
	c, err := client.New(cfg, client.Options{})
	must(t, err)
	return c
}

// waitForNode waits until Node name exists in the guest, or is gone.
func waitForNode(ctx context.Context, t *testing.T, guest client.Client, name string, exists bool) {
	t.Helper()
	what := "Node " + name + " to leave the guest cluster"
	if exists {
		what = "Node " + name + " to rejoin the guest cluster"
	}
	wait.For(t, 30*time.Second, what, func() (bool, error) {
		err := guest.Get(ctx, client.ObjectKey{Name: name}, &corev1.Node{})
		if apierrors.IsNotFound(err) {
			return !exists, nil
		}
		return err == nil && exists, err
	})
}

// assertHealthCheck checks the endpoint as HAProxy's health check does:
// GET /readyz over TLS without verification.
func assertHealthCheck(t *testing.T, ip string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as HAProxy's check-ssl verify none
	}}
	resp, err := c.Get("https://" + net.JoinHostPort(ip, "6443") + "/readyz")
	must(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("GET /readyz on %s:6443 = %d %q, want 200 \"ok\"", ip, resp.StatusCode, body)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
