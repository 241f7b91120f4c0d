package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/test/wait"
)

// The seed manifest, applied unchanged in ns1, reaches running: six VMs of
// class guaranteed-small in vCenter, a control-plane VIP that answers TLS
// on 6443 through HAProxy with a certificate of the cluster's CA, Antrea
// applied in the guest, printer columns filled; its network settings are
// immutable and it survives a v1alpha2 round trip; scaling the workers adds a
// VM; deleting the cluster removes every VM and frees the VIP and the
// workload addresses.
func TestSeedTKCRunning(t *testing.T) {
	c := supervisor.client
	ctx := context.Background()
	objs := apply(t, "../../templates/samples/tkc-v1alpha1.yaml", "ns1")
	name := objs[0].GetName()
	key := client.ObjectKey{Namespace: "ns1", Name: name}

	start := time.Now()
	tkc := &runv1alpha1.TanzuKubernetesCluster{}
	wait.For(t, 3*time.Minute, "the seed TKC running", func() (bool, error) {
		if err := c.Get(ctx, key, tkc); err != nil {
			return false, err
		}
		if tkc.Status.Phase != runv1alpha1.PhaseRunning {
			return false, fmt.Errorf("phase %q, status %+v", tkc.Status.Phase, tkc.Status)
		}
		return true, nil
	})
	t.Logf("seed TKC running after %s", time.Since(start).Round(100*time.Millisecond))
	if tkc.Spec.Distribution.Version != "v1.18.19+vmware.1-tkg.1.17af790" {
		t.Errorf("full version %q", tkc.Spec.Distribution.Version)
	}

	// Six VMs of class guaranteed-small, fully reserved, in vCenter.
	vms := clusterVMs(t, name)
	if len(vms) != 6 {
		t.Fatalf("want 6 VirtualMachines, got %d", len(vms))
	}
	for _, vm := range vms {
		if vm.Spec.ClassName != "guaranteed-small" {
			t.Errorf("%s has class %s", vm.Name, vm.Spec.ClassName)
		}
	}
	for _, vm := range vcenterVMs(t, "ns1") {
		if !strings.HasPrefix(vm.Name, name+"-") {
			continue
		}
		hw, alloc := vm.Config.Hardware, vm.Config.MemoryAllocation
		if hw.NumCPU != 2 || hw.MemoryMB != 4096 || alloc == nil || alloc.Reservation == nil || *alloc.Reservation != 4096 ||
			vm.Config.CpuAllocation == nil || vm.Config.CpuAllocation.Reservation == nil || *vm.Config.CpuAllocation.Reservation == 0 {
			t.Errorf("vCenter VM %s: %d CPU, %d MB, reservations cpu %v memory %v", vm.Name, hw.NumCPU, hw.MemoryMB, vm.Config.CpuAllocation, alloc)
		}
	}

	// The control-plane VIP answers TLS with the cluster CA's certificate.
	if tkc.Status.ClusterAPIStatus == nil || len(tkc.Status.ClusterAPIStatus.APIEndpoints) == 0 {
		t.Fatalf("no API endpoint in status: %+v", tkc.Status.ClusterAPIStatus)
	}
	ep := tkc.Status.ClusterAPIStatus.APIEndpoints[0]
	if !strings.HasPrefix(ep.Host, "127.30.0.") || ep.Port != 6443 {
		t.Errorf("API endpoint %+v is not a VIP of the embedded load balancer", ep)
	}
	caSecret := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns1", Name: name + "-ca"}, caSecret); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caSecret.Data["tls.crt"])
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: ep.Host, MinVersion: tls.VersionTLS12}}}
	res, err := hc.Get(fmt.Sprintf("https://%s/readyz", net.JoinHostPort(ep.Host, fmt.Sprint(ep.Port))))
	if err != nil {
		t.Fatalf("the VIP does not answer TLS verified by the cluster CA: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("/readyz through the VIP: %d %q", res.StatusCode, body)
	}

	// The guest cluster, through the VIP: six nodes and Antrea.
	guest := guestClient(t, name)
	var nodes corev1.NodeList
	if err := guest.List(ctx, &nodes); err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 6 {
		t.Errorf("the guest cluster has %d nodes", len(nodes.Items))
	}
	antrea := &corev1.ConfigMap{}
	if err := guest.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "antrea-config"}, antrea); err != nil {
		t.Errorf("Antrea's configuration is not in the guest: %v", err)
	} else if !strings.Contains(fmt.Sprint(antrea.Data), "193.0.0.0/16") {
		t.Errorf("Antrea is not configured with the TKC's pod range: %v", antrea.Data)
	}

	// As a user sees it: kubectl get nodes -o wide, version, api-resources,
	// apply; and the logins vSphere gives to the namespace's users.
	assertGuestLooksReal(t, name, 3, 3, "v1.18.19+vmware.1", "195.")
	assertGuestLogins(t, name)
	assertCAPVView(t, name)
	if procs := guestProcesses("ns1", name); len(procs) != 2 {
		t.Errorf("the guest's control plane runs as processes %v; want kube-apiserver and kube-controller-manager", procs)
	}
	if n := guestEtcdKeys(t, "ns1", name); n == 0 {
		t.Error("the guest keeps no data in etcd")
	}
	// The Contour example's envoy Service gets a VIP that reaches the workers.
	envoyVIP := createGuestLoadBalancer(t, name)
	assertVIPReachesWorkers(t, name, envoyVIP, 3)

	// kubectl get tkc (v1alpha1) shows the columns vSphere 7 shows.
	cells := printerColumns(t, name)
	want := map[string]string{"CONTROL PLANE": "3", "WORKER": "3", "DISTRIBUTION": "v1.18.19+vmware.1-tkg.1.17af790", "PHASE": "running"}
	for col, v := range want {
		if cells[col] != v {
			t.Errorf("printer column %s = %q, want %q (all: %v)", col, cells[col], v, cells)
		}
	}

	checkImmutableAndRoundTrip(t, key)

	// Scale the workers to 4: one more VM, running again.
	if err := c.Get(ctx, key, tkc); err != nil {
		t.Fatal(err)
	}
	tkc.Spec.Topology.Workers.Count = 4
	if err := c.Update(ctx, tkc); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 3*time.Minute, "7 VMs and running again", func() (bool, error) {
		if err := c.Get(ctx, key, tkc); err != nil {
			return false, err
		}
		if n := len(clusterVMs(t, name)); n != 7 || tkc.Status.Phase != runv1alpha1.PhaseRunning {
			return false, fmt.Errorf("%d VMs, phase %s", n, tkc.Status.Phase)
		}
		return true, nil
	})
	// HAProxy follows the workers: the new one answers at the VIP too.
	assertVIPReachesWorkers(t, name, envoyVIP, 4)
	deleteGuestLoadBalancer(t, name, envoyVIP)

	// Delete: nothing is left, the VIP is free again.
	if err := c.Delete(ctx, tkc); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 3*time.Minute, "the cluster gone", func() (bool, error) {
		if err := c.Get(ctx, key, &runv1alpha1.TanzuKubernetesCluster{}); err == nil {
			return false, fmt.Errorf("the TKC is still there")
		}
		if n := len(clusterVMs(t, name)); n != 0 {
			return false, fmt.Errorf("%d VirtualMachines left", n)
		}
		for _, vm := range vcenterVMs(t, "ns1") {
			if strings.HasPrefix(vm.Name, name+"-") {
				return false, fmt.Errorf("VM %s left in vCenter", vm.Name)
			}
		}
		var machines vmwarev1.VSphereMachineList
		if err := c.List(ctx, &machines, client.InNamespace("ns1")); err != nil || len(machines.Items) != 0 {
			return false, fmt.Errorf("%d VSphereMachines left (%v)", len(machines.Items), err)
		}
		var addresses vspherev1.IPAddressAllocationList
		if err := c.List(ctx, &addresses); err != nil {
			return false, err
		}
		for _, a := range addresses.Items {
			if a.Spec.Owner.Namespace == "ns1" && strings.HasPrefix(a.Spec.Owner.Name, name+"-") {
				return false, fmt.Errorf("workload address %s still allocated to %s", a.Spec.Address, a.Spec.Owner.Name)
			}
		}
		if err := vipReleased(ep.Host); err != nil {
			return false, err
		}
		var vmsvcs vmopv1.VirtualMachineServiceList
		if err := c.List(ctx, &vmsvcs, client.InNamespace("ns1")); err != nil {
			return false, err
		}
		for _, s := range vmsvcs.Items {
			if strings.HasPrefix(s.Name, name+"-") {
				return false, fmt.Errorf("VirtualMachineService %s left", s.Name)
			}
		}
		if n := guestEtcdKeys(t, "ns1", name); n != 0 {
			return false, fmt.Errorf("%d keys of the guest left in etcd", n)
		}
		if procs := guestProcesses("ns1", name); len(procs) > 0 {
			return false, fmt.Errorf("the guest's control-plane processes %v still run", procs)
		}
		if _, err := os.Stat(filepath.Join(supervisor.dir, "guests", "ns1-"+name)); !os.IsNotExist(err) {
			return false, fmt.Errorf("the guest's directory is left (%v)", err)
		}
		return true, nil
	})
}

// vipReleased says whether no Service holds vip any more and the load
// balancer counts only the VIPs Services hold.
func vipReleased(vip string) error {
	ctx := context.Background()
	var svcs vmopv1.VirtualMachineServiceList
	if err := supervisor.client.List(ctx, &svcs); err != nil {
		return err
	}
	held := int32(0)
	for _, s := range svcs.Items {
		for _, ing := range s.Status.LoadBalancer.Ingress {
			if ing.IP == vip {
				return fmt.Errorf("%s/%s still holds %s", s.Namespace, s.Name, vip)
			}
			held++
		}
	}
	// Core Services hold VIPs too: the supervisor endpoint's, at least.
	var core corev1.ServiceList
	if err := supervisor.client.List(ctx, &core); err != nil {
		return err
	}
	for _, s := range core.Items {
		for _, ing := range s.Status.LoadBalancer.Ingress {
			if ing.IP == vip {
				return fmt.Errorf("Service %s/%s still holds %s", s.Namespace, s.Name, vip)
			}
			held++
		}
	}
	lb := &lbv1.LoadBalancer{}
	if err := supervisor.client.Get(ctx, client.ObjectKey{Name: "haproxy-local"}, lb); err != nil {
		return err
	}
	if lb.Status.VIPsInUse != held {
		return fmt.Errorf("the load balancer counts %d VIPs in use, Services hold %d", lb.Status.VIPsInUse, held)
	}
	return nil
}

func clusterVMs(t *testing.T, cluster string) []vmopv1.VirtualMachine {
	var vms vmopv1.VirtualMachineList
	if err := supervisor.client.List(context.Background(), &vms, client.InNamespace("ns1"),
		client.MatchingLabels{vmwarev1.ClusterNameLabel: cluster}); err != nil {
		t.Fatal(err)
	}
	return vms.Items
}

// vcenterVMs reads the VMs of a namespace folder in the simulator, with
// the credentials and CA of the state directory's env file.
func vcenterVMs(t *testing.T, namespace string) []mo.VirtualMachine {
	t.Helper()
	ctx := context.Background()
	vimClient, logout := vcenterLogin(t)
	defer logout()
	env := readEnv(t)
	finder := find.NewFinder(vimClient, true)
	list, err := finder.VirtualMachineList(ctx, "/"+env["GOVC_DATACENTER"]+"/vm/Namespaces/"+namespace+"/*")
	if err != nil {
		return nil
	}
	var out []mo.VirtualMachine
	for _, vm := range list {
		var m mo.VirtualMachine
		if err := property.DefaultCollector(vimClient).RetrieveOne(ctx, vm.Reference(), []string{"name", "config"}, &m); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// vcenterLogin logs in to the simulator with the credentials and CA of the
// state directory's env file, as govc would; the returned func logs out.
func vcenterLogin(t *testing.T) (*vim25.Client, func()) {
	t.Helper()
	ctx := context.Background()
	env := readEnv(t)
	u, err := soap.ParseURL(env["GOVC_URL"])
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(env["GOVC_USERNAME"], env["GOVC_PASSWORD"])
	sc := soap.NewClient(u, false)
	if err := sc.SetRootCAs(env["GOVC_TLS_CA_CERTS"]); err != nil {
		t.Fatal(err)
	}
	vimClient, err := vim25.NewClient(ctx, sc)
	if err != nil {
		t.Fatalf("connecting to the simulator: %v", err)
	}
	sm := session.NewManager(vimClient)
	if err := sm.Login(ctx, u.User); err != nil {
		t.Fatalf("logging in to the simulator: %v", err)
	}
	return vimClient, func() { _ = sm.Logout(ctx) }
}

func readEnv(t *testing.T) map[string]string {
	f, err := os.Open(filepath.Join(supervisor.dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(s.Text(), "export "), "=")
		if ok {
			out[k] = strings.Trim(v, "'")
		}
	}
	return out
}

// guestClient talks to the guest cluster with the kubeconfig Cluster API
// wrote: through the control-plane VIP.
func guestClient(t *testing.T, cluster string) client.Client {
	s := &corev1.Secret{}
	if err := supervisor.client.Get(context.Background(), client.ObjectKey{Namespace: "ns1", Name: cluster + "-kubeconfig"}, s); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data["value"])
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// printerColumns returns `kubectl get tkc`'s cells of one cluster by column name.
func printerColumns(t *testing.T, name string) map[string]string {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(supervisor.dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.GroupVersion = &schema.GroupVersion{Group: "run.tanzu.vmware.com", Version: "v1alpha1"}
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(runtime.NewScheme()).WithoutConversion()
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		ColumnDefinitions []struct{ Name string } `json:"columnDefinitions"`
		Rows              []struct{ Cells []any } `json:"rows"`
	}
	raw, err := rc.Get().Namespace("ns1").Resource("tanzukubernetesclusters").Name(name).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &table); err != nil || len(table.Rows) != 1 {
		t.Fatalf("table: %v (%s)", err, raw)
	}
	out := map[string]string{}
	for i, col := range table.ColumnDefinitions {
		if i < len(table.Rows[0].Cells) && table.Rows[0].Cells[i] != nil {
			out[strings.ToUpper(col.Name)] = fmt.Sprint(table.Rows[0].Cells[i])
		}
	}
	return out
}
