package chaos

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// A guest cluster's control-plane VMs are powered off in vCenter behind
// Cluster API's back and kept off for a while (vCenter refuses to power
// them on): the guest API goes away. Once vCenter lets them run again the
// cluster must converge by itself: the TKC running, every Node Ready
// through the control-plane VIP, no VM cloned twice; deleting it leaves
// no VM, address, VIP or proxy.
func TestGuestAPIOutage(t *testing.T) {
	// Not in parallel: see TestVCenterFaults.
	runScenario(t, "Guest cluster: control-plane VMs powered off in vCenter behind Cluster API's back, kept off, then back", guestOutage)
}

func guestOutage(s *scenario) {
	t := s.t
	ctx := context.Background()
	n := serial.Add(1)
	h := harness.New(t, harness.Options{GuestClusters: true, GuestPorts: guestPorts, AddressRanges: workloadRange(n)})
	h.StartManager(nil)
	lb := h.StartLB(harness.LBOptions{Ranges: []lbv1.AddressRange{{Address: fmt.Sprintf("127.49.%d.10", n), Count: 4}}})

	controlPlanes, workers, outage := int64(1), int64(1), time.Duration(0)
	if full() {
		controlPlanes, outage = 3, 30*time.Second
	}
	tkc := h.SeedTKC()
	tkc.SetName(fmt.Sprintf("chaos-%d", n))
	s.must(unstructured.SetNestedField(tkc.Object, controlPlanes, "spec", "topology", "controlPlane", "count"))
	s.must(unstructured.SetNestedField(tkc.Object, workers, "spec", "topology", "workers", "count"))
	s.must(h.Client.Create(ctx, tkc))
	name := tkc.GetName()
	nodes := int(controlPlanes + workers)

	s.converged(2*converge, "the TKC running with every Node Ready", func() (bool, error) {
		return clusterUp(ctx, h, name, nodes)
	})

	// Power the control plane off behind Cluster API's back; vCenter keeps
	// refusing to power it on for the outage.
	var cps vmopv1.VirtualMachineList
	s.must(h.Client.List(ctx, &cps, client.InNamespace(h.Namespace),
		client.MatchingLabels{vmwarev1.ClusterNameLabel: name, vmwarev1.ClusterRoleLabel: vmwarev1.RoleControlPlane}))
	service := h.Sim.Model.Service
	finder := find.NewFinder(h.Sim.Client.Client, false)
	for _, vm := range cps.Items {
		service.AddFaultRule(&simulator.FaultInjectionRule{MethodName: "PowerOnVM_Task", ObjectType: "*", ObjectName: vm.Name,
			Probability: 1, FaultType: simulator.FaultTypeInvalidState, Enabled: true, Message: "chaos: the host is in maintenance"})
	}
	start := time.Now()
	for _, vm := range cps.Items {
		obj, err := finder.VirtualMachine(ctx, fmt.Sprintf("/%s/vm/Namespaces/%s/%s", vcsim.Datacenter, h.Namespace, vm.Name))
		s.must(err)
		task, err := obj.PowerOff(ctx)
		s.must(err)
		s.must(task.WaitEx(ctx))
	}
	s.fault(len(cps.Items), "control-plane VMs powered off in vCenter")
	// The VMs are off in vCenter and their power-on is refused: their
	// status must say so, which is also what stops their guests.
	for _, vm := range cps.Items {
		got := &vmopv1.VirtualMachine{}
		err := wait.Poll(ctx, wait.Interval, harnessTimeout, "VirtualMachine "+vm.Name+" to report PoweredOff", func() (bool, error) {
			if err := h.Client.Get(ctx, client.ObjectKeyFromObject(&vm), got); err != nil {
				return false, err
			}
			return got.Status.PowerState == vmopv1.VirtualMachinePowerStateOff, fmt.Errorf("power state %q", got.Status.PowerState)
		})
		if err == nil {
			continue
		}
		// The VM service once returned before updating the status when the
		// power-on failed, so the guest and Cluster API saw it running.
		t.Logf("%v", err)
		s.violate("a control-plane VirtualMachine kept reporting PoweredOn while vCenter had it powered off and refused to power it on, so its guest (and Cluster API) still saw it running")
	}
	if c, err := guestClient(ctx, h, name); err == nil {
		var list corev1.NodeList
		if err := c.List(ctx, &list); err == nil {
			s.note("the guest API still answered with its control plane powered off in vCenter")
		} else {
			s.note("the guest API was unreachable with its control plane powered off: %v", err)
		}
	}
	if rest := outage - time.Since(start); rest > 0 {
		// The outage's length is the fault itself, not a wait for anything.
		time.Sleep(rest)
	}
	stats := service.GetFaultStats()
	service.ClearFaultRules()
	s.fault(int(stats["total_injections"].(int64)), "PowerOnVM_Task refused while the control plane was off")
	s.note("guest control plane kept off for %s", time.Since(start).Round(time.Second))

	s.converged(2*converge, "the TKC running again with every Node Ready and every VM powered on in vCenter", func() (bool, error) {
		vms, err := vCenterVMList(ctx, h, name+"-")
		if err != nil {
			return false, err
		}
		for _, vm := range vms {
			if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
				return false, fmt.Errorf("VM %s is %s in vCenter", vm.Name, vm.Runtime.PowerState)
			}
		}
		return clusterUp(ctx, h, name, nodes)
	})
	in := s.noDuplicateVMs(h, name+"-")
	if len(in) != nodes {
		s.violate("want %d VMs of %s in vCenter, found %v", nodes, name, in)
	}

	secrets := map[string]string{
		"the vCenter password":          h.Sim.Password,
		"the Data Plane API password":   lb.Password,
		"the guest cluster's CA key":    secretValue(s, h, name+"-ca", "tls.key"),
		"the guest service-account key": secretValue(s, h, name+"-sa", "tls.key"),
		"the guest admin's client key":  clientKey(s, h, name),
	}

	s.must(h.Client.Delete(ctx, tkc))
	s.converged(2*converge, "the TKC's VMs, Services, addresses and VIPs gone", func() (bool, error) {
		vms, err := countList(h, &vmopv1.VirtualMachineList{})
		if err != nil || vms > 0 {
			return false, fmt.Errorf("%d VirtualMachines left (%v)", vms, err)
		}
		svcs, err := countList(h, &vmopv1.VirtualMachineServiceList{})
		if err != nil || svcs > 0 {
			return false, fmt.Errorf("%d VirtualMachineServices left (%v)", svcs, err)
		}
		in, err := vCenterVMs(ctx, h, name+"-")
		if err != nil || len(in) > 0 {
			return false, fmt.Errorf("left in vCenter: %v (%v)", in, err)
		}
		l := &lbv1.LoadBalancer{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(lb.Object), l); err != nil {
			return false, err
		}
		if l.Status.VIPsInUse > 0 {
			return false, fmt.Errorf("%d VIPs in use", l.Status.VIPsInUse)
		}
		return true, nil
	})
	r := &lbRun{s: s, h: h, lb: lb}
	if proxies, err := r.proxies(); err != nil || len(proxies) > 0 {
		s.violate("HAProxy still holds %v after the cluster was deleted (%v)", proxies, err)
	}
	s.noAllocationsLeft(h)
	s.noSecretsInLogs(secrets)
}

// clusterUp says whether the TKC is running and its guest API, through the
// control-plane VIP, shows nodes Nodes, all Ready.
func clusterUp(ctx context.Context, h *harness.Harness, name string, nodes int) (bool, error) {
	tkc := &runv1alpha1.TanzuKubernetesCluster{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: name}, tkc); err != nil {
		return false, err
	}
	if tkc.Status.Phase != runv1alpha1.PhaseRunning {
		return false, fmt.Errorf("phase %q", tkc.Status.Phase)
	}
	c, err := guestClient(ctx, h, name)
	if err != nil {
		return false, err
	}
	var list corev1.NodeList
	if err := c.List(ctx, &list); err != nil {
		return false, fmt.Errorf("the guest API: %w", err)
	}
	ready := 0
	for _, n := range list.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	if len(list.Items) != nodes || ready != nodes {
		return false, fmt.Errorf("%d Nodes, %d Ready, want %d", len(list.Items), ready, nodes)
	}
	return true, nil
}

// guestClient talks to the guest API as Cluster API's kubeconfig says:
// kubernetes-admin through the control-plane VIP.
func guestClient(ctx context.Context, h *harness.Harness, name string) (client.Client, error) {
	sec := &corev1.Secret{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: name + "-kubeconfig"}, sec); err != nil {
		return nil, err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(sec.Data["value"])
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 5 * time.Second
	return client.New(cfg, client.Options{})
}

func secretValue(s *scenario, h *harness.Harness, name, key string) string {
	sec := &corev1.Secret{}
	s.must(h.Client.Get(context.Background(), client.ObjectKey{Namespace: h.Namespace, Name: name}, sec))
	return string(sec.Data[key])
}

// clientKey is the private key in the cluster's admin kubeconfig.
func clientKey(s *scenario, h *harness.Harness, name string) string {
	cfg, err := clientcmd.Load([]byte(secretValue(s, h, name+"-kubeconfig", "value")))
	s.must(err)
	for _, a := range cfg.AuthInfos {
		if len(a.ClientKeyData) > 0 {
			return string(a.ClientKeyData)
		}
	}
	s.t.Fatal("no client key in the admin kubeconfig")
	return ""
}
