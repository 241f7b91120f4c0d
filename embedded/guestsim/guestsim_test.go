package guestsim

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
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
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
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
		err := guest.Get(ctx, client.ObjectKey{Name: cp.Name}, &corev1.Node{})
		return err == nil, client.IgnoreNotFound(err)
	})
	assertControlPlaneNode(ctx, t, guest, cp.Name, cpIP)
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

	// A powered-off guest's Node turns NotReady; powered on again it is Ready.
	vm := &vmopv1.VirtualMachine{}
	must(t, testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: worker.Name}, vm))
	ip := vm.Status.Network.PrimaryIP4
	must(t, setPoweredOff(ctx, vm))
	waitForNodeReady(ctx, t, guest, worker.Name, corev1.ConditionUnknown)
	must(t, setRunning(ctx, vm, ip))
	waitForNodeReady(ctx, t, guest, worker.Name, corev1.ConditionTrue)

	// Deleting the cluster's last VM stops its API server, deletes its data
	// and closes the API endpoint.
	admin, ok := sim.GuestConfig(key)
	if !ok {
		t.Fatal("the simulator has no API server for the guest cluster")
	}
	for _, m := range []string{worker.Name, cp.Name} {
		must(t, testClient.Delete(ctx, &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: m}}))
	}
	wait.For(t, 30*time.Second, "the guest cluster to be removed", func() (bool, error) {
		_, ok := sim.GuestConfig(key)
		return !ok, nil
	})
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(admin.Host, "https://"), time.Second); err == nil {
		_ = conn.Close()
		t.Errorf("the guest API server at %s still runs after the cluster's last VM was deleted", admin.Host)
	}
	assertNoGuestData(ctx, t, key)
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
		Spec:       vmwarev1.VSphereClusterSpec{ControlPlaneEndpoint: vmwarev1.APIEndpoint{Host: cpIP, Port: 6443}},
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
	// A merge patch, not an update: Cluster API's Cluster controller may
	// already have patched the VSphereCluster (owner reference, labels), and
	// the provider owns the status alone.
	base := vsc.DeepCopy()
	vsc.Status.Initialization.Provisioned = ptr.To(true)
	must(t, testClient.Status().Patch(ctx, vsc, client.MergeFrom(base)))
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

// waitForNodeReady waits until Node name's Ready condition has status.
func waitForNodeReady(ctx context.Context, t *testing.T, guest client.Client, name string, status corev1.ConditionStatus) {
	t.Helper()
	wait.For(t, 30*time.Second, "Node "+name+" Ready="+string(status), func() (bool, error) {
		node := &corev1.Node{}
		if err := guest.Get(ctx, client.ObjectKey{Name: name}, node); err != nil {
			return false, err
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == status, nil
			}
		}
		return false, nil
	})
}

// assertControlPlaneNode checks what kubectl get nodes -o wide and kubectl
// get pods -n kube-system show of a control-plane node: Ready, its role,
// version, address and providerID, and its static Pods running.
func assertControlPlaneNode(ctx context.Context, t *testing.T, guest client.Client, name, ip string) {
	t.Helper()
	waitForNodeReady(ctx, t, guest, name, corev1.ConditionTrue)
	node := &corev1.Node{}
	// kubeadm marks the node a control plane once its kubelet registered
	// it; the cloud provider gives it its providerID once the static Pods
	// run, so from then on they must (checked below).
	wait.For(t, 30*time.Second, "Node "+name+" marked as a control plane and initialized", func() (bool, error) {
		err := guest.Get(ctx, client.ObjectKey{Name: name}, node)
		_, marked := node.Labels["node-role.kubernetes.io/control-plane"]
		return err == nil && marked && node.Spec.ProviderID != "", err
	})
	if !strings.HasPrefix(node.Spec.ProviderID, ProviderIDPrefix) || node.Status.NodeInfo.KubeletVersion != kubernetesVersion {
		t.Errorf("Node %s: providerID %q, kubeletVersion %q, want vsphere://… and %s", name, node.Spec.ProviderID, node.Status.NodeInfo.KubeletVersion, kubernetesVersion)
	}
	if len(node.Status.Addresses) == 0 || node.Status.Addresses[0] != (corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip}) {
		t.Errorf("Node %s addresses %v, want InternalIP %s first", name, node.Status.Addresses, ip)
	}
	if node.Status.Capacity.Cpu().IsZero() || node.Status.Capacity.Memory().IsZero() {
		t.Errorf("Node %s capacity %v, want the VM class's CPUs and memory", name, node.Status.Capacity)
	}
	for _, component := range staticPodComponents {
		pod := &corev1.Pod{}
		must(t, guest.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceSystem, Name: component + "-" + name}, pod))
		if pod.Status.Phase != corev1.PodRunning || pod.Annotations[corev1.MirrorPodAnnotationKey] == "" {
			t.Errorf("Pod %s: phase %s, mirror annotation %q", pod.Name, pod.Status.Phase, pod.Annotations[corev1.MirrorPodAnnotationKey])
		}
	}
}

// assertNoGuestData checks that nothing of the guest is left in etcd.
func assertNoGuestData(ctx context.Context, t *testing.T, key types.NamespacedName) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: sim.opts.EtcdServers, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	must(t, err)
	defer func() { _ = cli.Close() }()
	prefix := "/guests/" + key.Namespace + "/" + key.Name + "/"
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	must(t, err)
	if resp.Count != 0 {
		t.Errorf("%d keys left under %s in etcd after the guest cluster was removed", resp.Count, prefix)
	}
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
