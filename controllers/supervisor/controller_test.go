package supervisor

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/vspherenamespace"
	lbcontroller "github.com/open-supervisor/supervisor/lbapi/controller"
	"github.com/open-supervisor/supervisor/test/wait"
)

// enableSpec is a complete HAProxy enable spec, as the REST API records it.
func enableSpec() vspherev1.SupervisorSpec {
	return vspherev1.SupervisorSpec{
		ClusterName: "Cluster", SizeHint: "TINY", ServiceCIDR: "10.96.0.0/23", NetworkProvider: "VSPHERE_NETWORK",
		ManagementNetwork: vspherev1.ManagementNetwork{Mode: "STATICRANGE", Network: "dvportgroup-21", AddressRange: &vspherev1.ManagementAddressRange{
			StartingAddress: "192.168.10.10", AddressCount: 5, SubnetMask: "255.255.255.0", Gateway: "192.168.10.1",
		}},
		MasterDNS:      []string{"192.168.10.2"},
		MasterDNSNames: []string{"supervisor.lab.local"},
		WorkerDNS:      []string{"192.168.10.2"},
		WorkloadNetwork: vspherev1.SupervisorWorkloadNetwork{
			Name: "network-1", PortGroup: "dvportgroup-22", Gateway: "192.168.20.1", SubnetMask: "255.255.255.0",
			AddressRanges: []vspherev1.AddressRange{{Address: "192.168.20.100", Count: 64}},
		},
		AdditionalWorkloadNetworks: []vspherev1.SupervisorWorkloadNetwork{{
			Name: "network-2", PortGroup: "dvportgroup-22", Gateway: "192.168.30.1", SubnetMask: "255.255.255.0",
			AddressRanges: []vspherev1.AddressRange{{Address: "192.168.30.10", Count: 10}},
		}},
		LoadBalancer: vspherev1.SupervisorLoadBalancer{
			ID: "haproxy", Provider: "HA_PROXY",
			AddressRanges:     []vspherev1.AddressRange{{Address: "127.30.0.64", Count: 16}},
			Servers:           []vspherev1.DataPlaneAPIServer{{Host: "127.0.0.1", Port: 5556}},
			Username:          "admin",
			CredentialsSecret: "haproxy-credentials", CertificateAuthorityChain: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
		},
		MasterStoragePolicy: "policy-gold", EphemeralStoragePolicy: "policy-gold", ImageStoragePolicy: "policy-gold",
	}
}

func createSupervisor(t *testing.T, name string, spec vspherev1.SupervisorSpec) {
	t.Helper()
	ctx := context.Background()
	sv := &vspherev1.Supervisor{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	if err := testClient.Create(ctx, sv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = testClient.Delete(context.Background(), sv)
		wait.For(t, timeout, "Supervisor "+name+" to be gone", func() (bool, error) {
			err := testClient.Get(context.Background(), client.ObjectKey{Name: name}, &vspherev1.Supervisor{})
			return apierrors.IsNotFound(err), err
		})
	})
}

func waitStatus(t *testing.T, name, want string, also func(*vspherev1.Supervisor) error) *vspherev1.Supervisor {
	t.Helper()
	sv := &vspherev1.Supervisor{}
	wait.For(t, timeout, fmt.Sprintf("Supervisor %s to be %s", name, want), func() (bool, error) {
		if err := testClient.Get(context.Background(), client.ObjectKey{Name: name}, sv); err != nil {
			return false, err
		}
		if sv.Status.ConfigStatus != want || sv.Status.ObservedGeneration != sv.Generation {
			return false, fmt.Errorf("configStatus %q, messages %+v", sv.Status.ConfigStatus, sv.Status.Messages)
		}
		if also != nil {
			if err := also(sv); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	return sv
}

func get(key client.ObjectKey, o client.Object) (bool, error) {
	err := testClient.Get(context.Background(), key, o)
	return err == nil, err
}

func gone(key client.ObjectKey, o client.Object) error {
	if err := testClient.Get(context.Background(), key, o); !apierrors.IsNotFound(err) {
		return fmt.Errorf("%T %s still there (%v)", o, key, err)
	}
	return nil
}

// setStatusOf writes an object's status as lbapi would.
func setStatusOf(t *testing.T, o client.Object, change func()) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := testClient.Get(context.Background(), client.ObjectKeyFromObject(o), o); err != nil {
			return err
		}
		change()
		return testClient.Status().Update(context.Background(), o)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func setReachable(t *testing.T, status metav1.ConditionStatus, reason, msg string) {
	t.Helper()
	lb := &lbv1.LoadBalancer{ObjectMeta: metav1.ObjectMeta{Name: "haproxy"}}
	setStatusOf(t, lb, func() {
		meta.SetStatusCondition(&lb.Status.Conditions, metav1.Condition{Type: lbv1.ConditionDataPlaneAPIReachable, Status: status, Reason: reason, Message: msg})
	})
}

// publishImage publishes a node image as the image catalog would.
func publishImage(t *testing.T, name, version string) {
	t.Helper()
	img := &vmopv1.ClusterVirtualMachineImage{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := testClient.Create(context.Background(), img); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	setStatusOf(t, img, func() {
		img.Status.ProviderItemID = "item-" + name
		img.Status.Type = vmopv1.ImageTypeOVF
		img.Status.ProductInfo.Version = version
	})
}

// runVM reports a VM running at ip, as the VM service would.
func runVM(t *testing.T, vm *vmopv1.VirtualMachine, ip string) {
	t.Helper()
	setStatusOf(t, vm, func() {
		vm.Status.PowerState = vmopv1.VirtualMachinePowerStateOn
		vm.Status.Network = &vmopv1.VirtualMachineNetworkStatus{PrimaryIP4: ip}
		meta.SetStatusCondition(&vm.Status.Conditions, metav1.Condition{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionTrue, Reason: "Ready"})
	})
}

func createCredentials(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: vspherev1.SupervisorSystemNamespace}}
	if err := testClient.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: vspherev1.SupervisorSystemNamespace, Name: "haproxy-credentials"},
		StringData: map[string]string{"username": "admin", "password": "changeme"},
	}
	if err := testClient.Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// TestEnableThenDisable enables Workload Management with a full HAProxy
// spec, checks what it makes, follows the load balancer to RUNNING (and to
// ERROR when HAProxy fails), then disables it with a vSphere Namespace in
// place: everything it made goes, the namespace first.
func TestEnableThenDisable(t *testing.T) {
	ctx := context.Background()
	createCredentials(t)
	// A class an admin made stays through disable.
	theirs := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "admins-own"}, Provisioner: vspherenamespace.CSIProvisioner}
	if err := testClient.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testClient.Delete(context.Background(), theirs) })
	publishImage(t, "photon-3-k8s-v1.19.16", "v1.19.16")
	publishImage(t, "photon-3-k8s-v1.21.6", "v1.21.6")
	publishImage(t, "photon-3-k8s-v1.20.15", "v1.20.15")
	const name = "domain-c8"
	createSupervisor(t, name, enableSpec())

	sv := waitStatus(t, name, vspherev1.ConfigStatusConfiguring, func(sv *vspherev1.Supervisor) error {
		if sv.Status.KubernetesStatus != vspherev1.KubernetesStatusReady {
			return fmt.Errorf("kubernetesStatus %q", sv.Status.KubernetesStatus)
		}
		return nil
	})
	if len(sv.Status.Messages) != 1 || !strings.Contains(sv.Status.Messages[0].DefaultMessage, "Data Plane API") {
		t.Errorf("CONFIGURING messages = %+v; want what it waits for", sv.Status.Messages)
	}

	lb := &lbv1.LoadBalancer{}
	wait.For(t, timeout, "the LoadBalancer", func() (bool, error) { return get(client.ObjectKey{Name: "haproxy"}, lb) })
	if s := lb.Spec; s.Provider != "HA_PROXY" || len(s.HAProxy.Servers) != 1 || s.HAProxy.Servers[0] != (lbv1.DataPlaneAPIServer{Host: "127.0.0.1", Port: 5556}) ||
		s.HAProxy.CredentialsSecretRef != (lbv1.SecretReference{Namespace: vspherev1.SupervisorSystemNamespace, Name: "haproxy-credentials"}) ||
		!strings.HasPrefix(s.HAProxy.CertificateAuthorityChain, "-----BEGIN") ||
		len(s.AddressRanges) != 1 || s.AddressRanges[0] != (lbv1.AddressRange{Address: "127.30.0.64", Count: 16}) {
		t.Errorf("LoadBalancer spec = %+v", s)
	}
	wn := &vspherev1.WorkloadNetwork{}
	wait.For(t, timeout, "the WorkloadNetwork", func() (bool, error) { return get(client.ObjectKey{Name: "network-1"}, wn) })
	if s := wn.Spec; s.PortGroup != "workload" || len(s.AddressRanges) != 1 || s.AddressRanges[0] != "192.168.20.100-192.168.20.163" ||
		s.PrefixLength != 24 || s.Gateway != "192.168.20.1" || len(s.Nameservers) != 1 || s.Nameservers[0] != "192.168.10.2" {
		t.Errorf("WorkloadNetwork spec = %+v", s)
	}
	wn2 := &vspherev1.WorkloadNetwork{}
	wait.For(t, timeout, "the additional WorkloadNetwork", func() (bool, error) { return get(client.ObjectKey{Name: "network-2"}, wn2) })
	if s := wn2.Spec; len(s.AddressRanges) != 1 || s.AddressRanges[0] != "192.168.30.10-192.168.30.19" || wn2.Labels[NetworkRoleLabel] != NetworkRoleWorkload {
		t.Errorf("additional WorkloadNetwork = %+v %+v", wn2.Labels, s)
	}
	sc := &storagev1.StorageClass{}
	wait.For(t, timeout, "the master policy's StorageClass", func() (bool, error) { return get(client.ObjectKey{Name: "gold-tier"}, sc) })
	if sc.Parameters[vspherenamespace.StoragePolicyIDParameter] != "policy-gold" || sc.Labels[vspherenamespace.SupervisorLabel] != name {
		t.Errorf("StorageClass gold-tier = %+v", sc)
	}

	svc := &corev1.Service{}
	svcKey := client.ObjectKey{Namespace: "kube-system", Name: "kube-apiserver-lb-svc"}
	wait.For(t, timeout, "the endpoint Service", func() (bool, error) { return get(svcKey, svc) })
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Spec.Selector) != 0 ||
		svc.Annotations[LoadBalancerIPsAnnotation] != "127.30.0.64" || svc.Spec.LoadBalancerClass == nil || *svc.Spec.LoadBalancerClass != lbcontroller.LoadBalancerClass ||
		len(svc.Spec.Ports) != 2 || svc.Spec.Ports[0].Port != 6443 || svc.Spec.Ports[1].Port != 443 {
		t.Errorf("endpoint Service = %+v %+v", svc.Annotations, svc.Spec)
	}
	_, port, _ := net.SplitHostPort(apiServer)
	for _, p := range []int32{6443, 443} {
		slice := &discoveryv1.EndpointSlice{}
		key := client.ObjectKey{Namespace: "kube-system", Name: fmt.Sprintf("kube-apiserver-lb-svc-%d", p)}
		wait.For(t, timeout, "EndpointSlice "+key.Name, func() (bool, error) { return get(key, slice) })
		if slice.Labels[discoveryv1.LabelServiceName] != svc.Name || len(slice.Endpoints) != 1 || slice.Endpoints[0].Addresses[0] != "127.0.0.1" ||
			len(slice.Ports) != 1 || fmt.Sprint(*slice.Ports[0].Port) != port {
			t.Errorf("EndpointSlice %s = %+v; want the API server at %s", key.Name, slice, apiServer)
		}
	}

	// lbapi reaches HAProxy: still waiting for the VIP.
	setReachable(t, metav1.ConditionTrue, lbv1.ReasonReachable, "Data Plane API v3 at https://127.0.0.1:5556")
	waitStatus(t, name, vspherev1.ConfigStatusConfiguring, func(sv *vspherev1.Supervisor) error {
		if len(sv.Status.Messages) == 0 || !strings.Contains(sv.Status.Messages[0].DefaultMessage, "endpoint VIP 127.30.0.64") {
			return fmt.Errorf("messages %+v", sv.Status.Messages)
		}
		return nil
	})
	// lbapi serves the VIP.
	setStatusOf(t, svc, func() {
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "127.30.0.64"}}
		meta.SetStatusCondition(&svc.Status.Conditions, metav1.Condition{Type: lbv1.ConditionLoadBalancerReady, Status: metav1.ConditionTrue, Reason: lbv1.ReasonVIPServing, Message: "VIP 127.30.0.64 accepts connections"})
	})
	// The load balancer serves; the control plane does not run yet.
	waitStatus(t, name, vspherev1.ConfigStatusConfiguring, func(sv *vspherev1.Supervisor) error {
		if len(sv.Status.Messages) == 0 || !strings.Contains(sv.Status.Messages[0].DefaultMessage, "control-plane VMs") {
			return fmt.Errorf("messages %+v", sv.Status.Messages)
		}
		return nil
	})
	mgmt := &vspherev1.WorkloadNetwork{}
	if _, err := get(client.ObjectKey{Name: name + "-management"}, mgmt); err != nil {
		t.Fatal(err)
	}
	if s := mgmt.Spec; s.PortGroup != "management" || len(s.AddressRanges) != 1 || s.AddressRanges[0] != "192.168.10.11-192.168.10.14" ||
		s.PrefixLength != 24 || s.Gateway != "192.168.10.1" || mgmt.Labels[NetworkRoleLabel] != NetworkRoleManagement {
		t.Errorf("management WorkloadNetwork = %+v %+v; want the range after the floating address", mgmt.Labels, s)
	}
	class := &vmopv1.VirtualMachineClass{}
	if _, err := get(client.ObjectKey{Namespace: vspherev1.SupervisorSystemNamespace, Name: "supervisor-control-plane-tiny"}, class); err != nil {
		t.Fatal(err)
	}
	if class.Spec.Hardware.Cpus != 2 || class.Spec.Hardware.Memory.String() != "8Gi" {
		t.Errorf("TINY control-plane class = %+v; want 2 CPUs, 8Gi", class.Spec.Hardware)
	}
	var vms []*vmopv1.VirtualMachine
	for i := 1; i <= 3; i++ {
		vm := &vmopv1.VirtualMachine{}
		key := client.ObjectKey{Namespace: vspherev1.SupervisorSystemNamespace, Name: fmt.Sprintf("supervisorcontrolplanevm-%d", i)}
		if _, err := get(key, vm); err != nil {
			t.Fatal(err)
		}
		if s := vm.Spec; s.ImageName != "photon-3-k8s-v1.21.6" || s.ClassName != class.Name || s.StorageClass != "gold-tier" ||
			s.Network == nil || len(s.Network.Interfaces) != 1 || s.Network.Interfaces[0].Network.Name != mgmt.Name {
			t.Errorf("control-plane VM %s spec = %+v; want the newest image on the management network", key.Name, s)
		}
		vms = append(vms, vm)
	}
	for i, vm := range vms {
		runVM(t, vm, fmt.Sprintf("192.168.10.%d", 13-i))
	}
	sv = waitStatus(t, name, vspherev1.ConfigStatusRunning, nil)
	if got := strings.Join(sv.Status.APIServers, ","); got != "192.168.10.11,192.168.10.12,192.168.10.13" || sv.Status.APIServerManagementEndpoint != "192.168.10.10" {
		t.Errorf("apiServers %q, management endpoint %q", got, sv.Status.APIServerManagementEndpoint)
	}
	// Tanzu CLI's discovery: the endpoint and what it trusts, readable
	// before login.
	info := &corev1.ConfigMap{}
	wait.For(t, timeout, "kube-public/vip-cluster-info", func() (bool, error) {
		return get(client.ObjectKey{Namespace: "kube-public", Name: "vip-cluster-info"}, info)
	})
	if cfg, err := clientcmd.Load([]byte(info.Data["kubeconfig"])); err != nil || len(cfg.Clusters) != 1 ||
		cfg.Clusters[""].Server != "https://127.30.0.64:6443" || string(cfg.Clusters[""].CertificateAuthorityData) != sv.Status.TLSEndpointCertificate {
		t.Errorf("vip-cluster-info kubeconfig = %q (%v)", info.Data["kubeconfig"], err)
	}
	if _, err := get(client.ObjectKey{Namespace: "kube-public", Name: "vip-cluster-info-reader"}, &rbacv1.RoleBinding{}); err != nil {
		t.Errorf("no one may read vip-cluster-info: %v", err)
	}
	if sv.Status.APIServerClusterEndpoint != "127.30.0.64" || sv.Status.KubernetesStatus != vspherev1.KubernetesStatusReady || len(sv.Status.Messages) != 0 {
		t.Errorf("RUNNING status = %+v", sv.Status)
	}
	if block, _ := pem.Decode([]byte(sv.Status.TLSEndpointCertificate)); block == nil || block.Type != "CERTIFICATE" {
		t.Errorf("tlsEndpointCertificate = %q; want the API server's certificate", sv.Status.TLSEndpointCertificate)
	}
	for _, c := range ownedConditions {
		if !meta.IsStatusConditionTrue(sv.Status.Conditions, c) {
			t.Errorf("condition %s = %+v", c, meta.FindStatusCondition(sv.Status.Conditions, c))
		}
	}

	// An additional network taken out of the spec goes.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := testClient.Get(ctx, client.ObjectKey{Name: name}, sv); err != nil {
			return err
		}
		sv.Spec.AdditionalWorkloadNetworks = nil
		return testClient.Update(ctx, sv)
	})
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, timeout, "network-2 to be deleted", func() (bool, error) {
		return gone(client.ObjectKey{Name: "network-2"}, &vspherev1.WorkloadNetwork{}) == nil, nil
	})

	// HAProxy stops answering: ERROR, saying what to check.
	setReachable(t, metav1.ConditionFalse, lbv1.ReasonUnreachable, "dial tcp 127.0.0.1:5556: connect: connection refused")
	sv = waitStatus(t, name, vspherev1.ConfigStatusError, nil)
	if len(sv.Status.Messages) != 1 || sv.Status.Messages[0].ID != "vcenter.wcp.loadbalancer.dataplaneapi.unreachable" ||
		!strings.Contains(sv.Status.Messages[0].DefaultMessage, "connection refused") ||
		!strings.Contains(sv.Status.Messages[0].DefaultMessage, "certificate_authority_chain") {
		t.Errorf("ERROR messages = %+v", sv.Status.Messages)
	}
	setReachable(t, metav1.ConditionTrue, lbv1.ReasonReachable, "Data Plane API v3 at https://127.0.0.1:5556")
	waitStatus(t, name, vspherev1.ConfigStatusRunning, nil)

	// A vSphere Namespace on the cluster, with a storage class of its own.
	vns := &vspherev1.VSphereNamespace{
		ObjectMeta: metav1.ObjectMeta{Name: "ns-on-c8"},
		Spec:       vspherev1.VSphereNamespaceSpec{Cluster: name, StorageSpecs: []vspherev1.StorageSpec{{Policy: "policy-silver"}}},
	}
	if err := testClient.Create(ctx, vns); err != nil {
		t.Fatal(err)
	}
	wait.For(t, timeout, "the vSphere Namespace to run", func() (bool, error) {
		err := testClient.Get(ctx, client.ObjectKeyFromObject(vns), vns)
		return err == nil && vns.Status.ConfigStatus == vspherev1.ConfigStatusRunning, err
	})

	// Disable.
	if err := testClient.Delete(ctx, &vspherev1.Supervisor{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	wait.For(t, timeout, "disable to remove everything enable made", func() (bool, error) {
		for key, o := range map[client.ObjectKey]client.Object{
			{Name: "ns-on-c8"}:           &vspherev1.VSphereNamespace{},
			{Name: "haproxy"}:            &lbv1.LoadBalancer{},
			{Name: "network-1"}:          &vspherev1.WorkloadNetwork{},
			{Name: name + "-management"}: &vspherev1.WorkloadNetwork{},
			{Namespace: vspherev1.SupervisorSystemNamespace, Name: "supervisorcontrolplanevm-1"}:    &vmopv1.VirtualMachine{},
			{Namespace: vspherev1.SupervisorSystemNamespace, Name: "supervisor-control-plane-tiny"}: &vmopv1.VirtualMachineClass{},
			{Name: "gold-tier"}: &storagev1.StorageClass{},
			{Name: "silver"}:    &storagev1.StorageClass{},
			svcKey:              &corev1.Service{},
			{Namespace: "kube-system", Name: "kube-apiserver-lb-svc-6443"}: &discoveryv1.EndpointSlice{},
			{Name: name}: &vspherev1.Supervisor{},
		} {
			if err := gone(key, o); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err := gone(client.ObjectKey{Name: "ns-on-c8"}, &corev1.Namespace{}); err != nil {
		t.Errorf("the vSphere Namespace's namespace: %v", err)
	}
	if _, err := get(client.ObjectKey{Name: "admins-own"}, &storagev1.StorageClass{}); err != nil {
		t.Errorf("disable deleted a StorageClass it did not make: %v", err)
	}
}

// TestEnableProblemsNameTheField enables with an unknown portgroup and
// storage policy and a load-balancer id taken by an object enable did not
// make: ERROR, one message per problem naming the field; the foreign object
// survives disable.
func TestEnableProblemsNameTheField(t *testing.T) {
	ctx := context.Background()
	createCredentials(t)
	foreign := &lbv1.LoadBalancer{
		ObjectMeta: metav1.ObjectMeta{Name: "someone-elses"},
		Spec: lbv1.LoadBalancerSpec{
			Provider: "HA_PROXY", AddressRanges: []lbv1.AddressRange{{CIDR: "127.31.0.0/28"}},
			HAProxy: lbv1.HAProxyConfig{Servers: []lbv1.DataPlaneAPIServer{{Host: "127.0.0.1", Port: 5557}},
				CredentialsSecretRef: lbv1.SecretReference{Namespace: vspherev1.SupervisorSystemNamespace, Name: "haproxy-credentials"}},
		},
	}
	if err := testClient.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testClient.Delete(context.Background(), foreign) })

	publishImage(t, "photon-3-k8s-v1.21.6", "v1.21.6")
	spec := enableSpec()
	spec.WorkloadNetwork.PortGroup = "dvportgroup-99"
	spec.ImageStoragePolicy = "no-such-policy"
	spec.LoadBalancer.ID = "someone-elses"
	const name = "domain-c9"
	createSupervisor(t, name, spec)

	sv := waitStatus(t, name, vspherev1.ConfigStatusError, func(sv *vspherev1.Supervisor) error {
		if len(sv.Status.Messages) != 3 {
			return fmt.Errorf("messages %+v", sv.Status.Messages)
		}
		return nil
	})
	want := map[string]string{
		"vcenter.wcp.network.portgroup.notfound": "workload_networks_spec.supervisor_primary_workload_network.vsphere_network.portgroup: portgroup \"dvportgroup-99\"",
		"vcenter.wcp.storage.policy.notfound":    "image_storage.storage_policy: storage policy \"no-such-policy\"",
		"vcenter.wcp.object.conflict":            "load_balancer_config_spec.id: LoadBalancer \"someone-elses\" already exists",
	}
	for _, m := range sv.Status.Messages {
		if prefix, ok := want[m.ID]; !ok || m.Severity != "ERROR" || !strings.HasPrefix(m.DefaultMessage, prefix) {
			t.Errorf("message %+v; want one of %v", m, want)
		}
	}
	for cond, reason := range map[string]string{
		vspherev1.SupervisorNetworkReadyCondition:      ReasonPortGroupNotFound,
		vspherev1.SupervisorStorageReadyCondition:      ReasonStoragePolicyNotFound,
		vspherev1.SupervisorLoadBalancerReadyCondition: ReasonObjectTaken,
	} {
		if c := meta.FindStatusCondition(sv.Status.Conditions, cond); c == nil || c.Status != metav1.ConditionFalse || c.Reason != reason {
			t.Errorf("condition %s = %+v, want False/%s", cond, c, reason)
		}
	}
	if err := gone(client.ObjectKey{Name: "network-1"}, &vspherev1.WorkloadNetwork{}); err != nil {
		t.Errorf("a WorkloadNetwork was made for an unknown portgroup: %v", err)
	}
	if err := testClient.Get(ctx, client.ObjectKeyFromObject(foreign), foreign); err != nil || metav1.GetControllerOf(foreign) != nil {
		t.Errorf("the foreign LoadBalancer was taken: %+v %v", foreign.OwnerReferences, err)
	}

	if err := testClient.Delete(ctx, sv); err != nil {
		t.Fatal(err)
	}
	wait.For(t, timeout, "disable to end", func() (bool, error) {
		return gone(client.ObjectKey{Name: name}, &vspherev1.Supervisor{}) == nil, nil
	})
	if _, err := get(client.ObjectKeyFromObject(foreign), &lbv1.LoadBalancer{}); err != nil {
		t.Errorf("disable deleted a LoadBalancer it did not make: %v", err)
	}
}
