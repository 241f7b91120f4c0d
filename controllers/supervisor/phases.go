package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/vspherenamespace"
)

// The supervisor's endpoint.
const (
	// EndpointServiceNamespace and EndpointServiceName name the Service of
	// the endpoint VIP, as on vSphere.
	EndpointServiceNamespace = "kube-system"
	EndpointServiceName      = "kube-apiserver-lb-svc"
	// APIServerPort serves kube-apiserver; LoginPort the login service.
	APIServerPort int32 = 6443
	LoginPort     int32 = 443
	// LoadBalancerIPsAnnotation asks lbapi for a VIP.
	LoadBalancerIPsAnnotation = "lbapi.opensupervisor.io/loadBalancerIPs"
	// LoadBalancerClass is lbapi's class (lbapi/controller.LoadBalancerClass):
	// no other load balancer of the cluster serves the endpoint.
	LoadBalancerClass = "lbapi.opensupervisor.io/haproxy"
	// endpointSliceManager marks the endpoint's EndpointSlices as ours, so
	// kube-controller-manager's endpoint controllers leave them alone.
	endpointSliceManager = "supervisor.vsphere.opensupervisor.io"
)

// errTaken: an object of the name exists and this Supervisor did not make it.
var errTaken = errors.New("exists and was not made by Workload Management on this cluster")

// ensure creates obj, or patches the existing object of its name with
// mutate, with sv as its controller. One sv does not control is errTaken.
func (r *Reconciler) ensure(ctx context.Context, sv *vspherev1.Supervisor, obj client.Object, mutate func()) error {
	_, err := controllerutil.CreateOrPatch(ctx, r.Client, obj, func() error {
		if obj.GetResourceVersion() != "" && !metav1.IsControlledBy(obj, sv) {
			return errTaken
		}
		mutate()
		return controllerutil.SetControllerReference(sv, obj, r.Client.Scheme())
	})
	return err
}

func taken(condition, kind, name, wire string) problem {
	return problem{
		condition: condition, reason: ReasonObjectTaken, id: "vcenter.wcp.object.conflict", field: wire, args: []string{kind, name},
		message: fmt.Sprintf("%s %q already exists and was not made by Workload Management on this cluster; choose another name or delete it", kind, name),
	}
}

// reconcileStorage makes the StorageClasses of the master, ephemeral and
// image storage policies.
func (r *Reconciler) reconcileStorage(ctx context.Context, sv *vspherev1.Supervisor, obs *observation) error {
	cond := vspherev1.SupervisorStorageReadyCondition
	done := map[string]bool{}
	for _, p := range []struct{ wire, id string }{
		{"master_storage_policy", sv.Spec.MasterStoragePolicy},
		{"ephemeral_storage_policy", sv.Spec.EphemeralStoragePolicy},
		{"image_storage.storage_policy", sv.Spec.ImageStoragePolicy},
	} {
		if p.id == "" {
			obs.add(problem{condition: cond, reason: ReasonStoragePolicyNotFound, id: "vcenter.wcp.storage.policy.missing", field: p.wire, message: "a storage policy is required"})
			continue
		}
		if done[p.id] {
			continue
		}
		done[p.id] = true
		notFound := problem{
			condition: cond, reason: ReasonStoragePolicyNotFound, id: "vcenter.wcp.storage.policy.notfound", field: p.wire, args: []string{p.id},
			message: fmt.Sprintf("storage policy %q does not exist in vCenter", p.id),
		}
		if r.Policies == nil {
			notFound.message = fmt.Sprintf("storage policy %q cannot be looked up: the supervisor has no access to vCenter's storage policies", p.id)
			obs.add(notFound)
			continue
		}
		policy, found, err := r.Policies.StoragePolicy(ctx, p.id)
		if err != nil {
			return err
		}
		if !found || policy.StorageClass == "" {
			obs.add(notFound)
			continue
		}
		sc := vspherenamespace.NewStorageClass(policy, r.DatastoreURL, sv.Name)
		// The label is what disable deletes by; the reference lets the
		// garbage collector do it should the Supervisor vanish otherwise.
		if err := controllerutil.SetOwnerReference(sv, sc, r.Client.Scheme()); err != nil {
			return err
		}
		created, err := vspherenamespace.EnsureStorageClass(ctx, r.Client, sc)
		if errors.Is(err, vspherenamespace.ErrStorageClassTaken) {
			obs.add(problem{
				condition: cond, reason: ReasonObjectTaken, id: "vcenter.wcp.storage.class.conflict", field: p.wire, args: []string{p.id, sc.Name},
				message: fmt.Sprintf("storage policy %q (%s) maps to StorageClass %q: %v", policy.Name, p.id, sc.Name, err),
			})
			continue
		}
		if err != nil {
			return err
		}
		if created {
			ctrl.LoggerFrom(ctx).Info("Created StorageClass for storage policy", "StorageClass", sc.Name, "policy", policy.Name)
		}
		obs.storageClasses = append(obs.storageClasses, sc.Name)
		if p.id == sv.Spec.MasterStoragePolicy {
			obs.masterStorageClass = sc.Name
		}
	}
	return nil
}

// reconcileNetworks makes a WorkloadNetwork per workload network of the
// spec (the primary and the additional ones) and deletes those it made
// for networks the spec no longer has.
func (r *Reconciler) reconcileNetworks(ctx context.Context, sv *vspherev1.Supervisor, obs *observation) error {
	want := map[string]bool{}
	for i, wn := range sv.Spec.WorkloadNetworks() {
		base := "workload_networks_spec.supervisor_primary_workload_network"
		if i > 0 {
			base = fmt.Sprintf("workload_networks_spec.network_list[%d]", i-1)
		}
		want[wn.Name] = true
		if err := r.reconcileNetwork(ctx, sv, wn, base, obs); err != nil {
			return err
		}
	}
	var list vspherev1.WorkloadNetworkList
	if err := r.Client.List(ctx, &list, client.MatchingLabels{NetworkRoleLabel: NetworkRoleWorkload}); err != nil {
		return fmt.Errorf("failed to list WorkloadNetworks: %w", err)
	}
	for i := range list.Items {
		nw := &list.Items[i]
		if want[nw.Name] || !metav1.IsControlledBy(nw, sv) || !nw.DeletionTimestamp.IsZero() {
			continue
		}
		ctrl.LoggerFrom(ctx).Info("Deleting workload network removed from the Supervisor", "WorkloadNetwork", nw.Name)
		if err := r.Client.Delete(ctx, nw); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("failed to delete WorkloadNetwork %s: %w", nw.Name, err)
		}
	}
	return nil
}

// reconcileNetwork makes one workload network's WorkloadNetwork; base is
// its field in the enable spec.
func (r *Reconciler) reconcileNetwork(ctx context.Context, sv *vspherev1.Supervisor, wn vspherev1.SupervisorWorkloadNetwork, base string, obs *observation) error {
	cond := vspherev1.SupervisorNetworkReadyCondition
	invalid := func(field, format string, args ...any) {
		obs.add(problem{condition: cond, reason: ReasonInvalidNetwork, id: "vcenter.wcp.network.invalid", field: base + field, message: fmt.Sprintf(format, args...)})
	}
	before := len(obs.problems)
	if errs := validation.IsDNS1123Label(wn.Name); len(errs) > 0 {
		invalid(".network", "%q is not a DNS label: %s", wn.Name, errs[0])
	}
	prefix, err := PrefixLength(wn.SubnetMask)
	if err != nil {
		invalid(".vsphere_network.subnet_mask", "%v", err)
	}
	var ranges []string
	for i, ar := range wn.AddressRanges {
		s, err := RangeOf(ar)
		if err != nil {
			invalid(fmt.Sprintf(".vsphere_network.address_ranges[%d]", i), "%v", err)
			continue
		}
		ranges = append(ranges, s)
	}
	if len(wn.AddressRanges) == 0 {
		invalid(".vsphere_network.address_ranges", "at least one address range is required")
	}
	if wn.Gateway != "" {
		if a, err := netip.ParseAddr(wn.Gateway); err != nil || !a.Is4() {
			invalid(".vsphere_network.gateway", "%q is not an IPv4 address", wn.Gateway)
		}
	}
	portGroup := ""
	if r.PortGroups == nil {
		invalid(".vsphere_network.portgroup", "portgroup %q cannot be looked up: the supervisor has no access to vCenter's networks", wn.PortGroup)
	} else {
		name, found, err := r.PortGroups.PortGroupName(ctx, wn.PortGroup)
		if err != nil {
			return fmt.Errorf("failed to look up portgroup %s: %w", wn.PortGroup, err)
		}
		if !found {
			obs.add(problem{
				condition: cond, reason: ReasonPortGroupNotFound, id: "vcenter.wcp.network.portgroup.notfound", args: []string{wn.PortGroup},
				field: base + ".vsphere_network.portgroup", message: fmt.Sprintf("portgroup %q does not exist in vCenter", wn.PortGroup),
			})
		}
		portGroup = name
	}
	if len(obs.problems) > before {
		return nil
	}
	nw := &vspherev1.WorkloadNetwork{ObjectMeta: metav1.ObjectMeta{Name: wn.Name}}
	err = r.ensure(ctx, sv, nw, func() {
		if nw.Labels == nil {
			nw.Labels = map[string]string{}
		}
		nw.Labels[NetworkRoleLabel] = NetworkRoleWorkload
		nw.Spec = vspherev1.WorkloadNetworkSpec{
			PortGroup: portGroup, AddressRanges: ranges, PrefixLength: prefix, Gateway: wn.Gateway,
			Nameservers: append([]string(nil), sv.Spec.WorkerDNS...),
		}
	})
	if errors.Is(err, errTaken) {
		obs.add(taken(cond, "WorkloadNetwork", wn.Name, base+".network"))
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to apply WorkloadNetwork %s: %w", wn.Name, err)
	}
	obs.networks = append(obs.networks, nw)
	return nil
}

// reconcileLoadBalancer makes the lbapi LoadBalancer of the HAProxy
// appliance; its credentials are the Secret the REST API wrote.
func (r *Reconciler) reconcileLoadBalancer(ctx context.Context, sv *vspherev1.Supervisor, obs *observation) error {
	cond := vspherev1.SupervisorLoadBalancerReadyCondition
	spec := sv.Spec.LoadBalancer
	const base = "load_balancer_config_spec"
	invalid := func(field, format string, args ...any) {
		obs.add(problem{condition: cond, reason: ReasonInvalidLoadBalancer, id: "vcenter.wcp.loadbalancer.invalid", field: base + field, message: fmt.Sprintf(format, args...)})
	}
	before := len(obs.problems)
	if errs := validation.IsDNS1123Label(spec.ID); len(errs) > 0 {
		invalid(".id", "%q is not a DNS label: %s", spec.ID, errs[0])
	}
	if spec.Provider != lbv1.ProviderHAProxy {
		invalid(".provider", "provider %q is not supported; use %s", spec.Provider, lbv1.ProviderHAProxy)
	}
	if spec.CredentialsSecret == "" {
		invalid(".ha_proxy_config_create_spec.password", "the Data Plane API credentials are missing")
	}
	vip, err := FirstVIP(spec.AddressRanges)
	if err != nil {
		invalid(".address_ranges", "%v", err)
	}
	if len(obs.problems) > before {
		return nil
	}
	lb := &lbv1.LoadBalancer{ObjectMeta: metav1.ObjectMeta{Name: spec.ID}}
	err = r.ensure(ctx, sv, lb, func() {
		lb.Spec = lbv1.LoadBalancerSpec{
			Provider: lbv1.ProviderHAProxy,
			HAProxy: lbv1.HAProxyConfig{
				CredentialsSecretRef:      lbv1.SecretReference{Namespace: vspherev1.SupervisorSystemNamespace, Name: spec.CredentialsSecret},
				CertificateAuthorityChain: spec.CertificateAuthorityChain,
			},
		}
		for _, s := range spec.Servers {
			lb.Spec.HAProxy.Servers = append(lb.Spec.HAProxy.Servers, lbv1.DataPlaneAPIServer{Host: s.Host, Port: s.Port})
		}
		for _, ar := range spec.AddressRanges {
			lb.Spec.AddressRanges = append(lb.Spec.AddressRanges, lbv1.AddressRange{Address: ar.Address, Count: ar.Count})
		}
	})
	switch {
	case errors.Is(err, errTaken):
		obs.add(taken(cond, "LoadBalancer", spec.ID, base+".id"))
		return nil
	case apierrors.IsInvalid(err) || apierrors.IsForbidden(err):
		// lbapi's webhook refused it.
		invalid("", "%v", err)
		return nil
	case err != nil:
		return fmt.Errorf("failed to apply LoadBalancer %s: %w", spec.ID, err)
	}
	obs.lb, obs.vip = lb, vip
	return nil
}

// endpointTarget is where one port of the endpoint forwards to.
type endpointTarget struct {
	portName string
	port     int32
	addr     string // host:port
}

func (r *Reconciler) endpointTargets() []endpointTarget {
	return []endpointTarget{
		{portName: "kube-apiserver", port: APIServerPort, addr: r.APIServer},
		{portName: "login", port: LoginPort, addr: r.Login},
	}
}

// reconcileEndpoint makes the endpoint Service asking lbapi for the first
// VIP, and an EndpointSlice per port pointing at where it forwards to.
func (r *Reconciler) reconcileEndpoint(ctx context.Context, sv *vspherev1.Supervisor, obs *observation) error {
	if obs.lb == nil {
		return nil
	}
	cond := vspherev1.SupervisorLoadBalancerReadyCondition
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: EndpointServiceNamespace, Name: EndpointServiceName}}
	err := r.ensure(ctx, sv, svc, func() {
		if svc.Labels == nil {
			svc.Labels = map[string]string{}
		}
		svc.Labels[vspherenamespace.SupervisorLabel] = sv.Name
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		svc.Annotations[LoadBalancerIPsAnnotation] = obs.vip.String()
		svc.Spec.Type = corev1.ServiceTypeLoadBalancer
		svc.Spec.Selector = nil
		if svc.ResourceVersion == "" {
			// Immutable once set.
			svc.Spec.LoadBalancerClass = ptr.To(LoadBalancerClass)
		}
		// HAProxy forwards to the EndpointSlices; no node port is needed.
		svc.Spec.AllocateLoadBalancerNodePorts = ptr.To(false)
		svc.Spec.Ports = nil
		for _, t := range r.endpointTargets() {
			svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
				Name: t.portName, Protocol: corev1.ProtocolTCP, Port: t.port, TargetPort: intstr.FromInt32(t.port),
			})
		}
	})
	if errors.Is(err, errTaken) {
		obs.add(taken(cond, "Service", EndpointServiceNamespace+"/"+EndpointServiceName, "load_balancer_config_spec"))
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to apply the endpoint Service: %w", err)
	}
	obs.service = svc
	for _, t := range r.endpointTargets() {
		ips, port, err := r.backends(ctx, t, obs)
		if err != nil {
			return err
		}
		if err := r.reconcileEndpointSlice(ctx, sv, svc, t, obs, ips, port); err != nil {
			return err
		}
	}
	return nil
}

// backends are where one port of the endpoint forwards to: the running
// control-plane VMs on the same port when they serve the API, else the
// target's address.
func (r *Reconciler) backends(ctx context.Context, t endpointTarget, obs *observation) ([]netip.Addr, int32, error) {
	if r.ControlPlaneServes {
		var ips []netip.Addr
		if cp := obs.controlPlane; cp != nil {
			for _, a := range cp.addresses {
				if ip, err := netip.ParseAddr(a); err == nil {
					ips = append(ips, ip)
				}
			}
		}
		return ips, t.port, nil
	}
	host, portStr, err := net.SplitHostPort(t.addr)
	if err != nil {
		return nil, 0, fmt.Errorf("the endpoint's port %d forwards to %q, not host:port: %w", t.port, t.addr, err)
	}
	port, err := strconv.ParseInt(portStr, 10, 32)
	if err != nil {
		return nil, 0, fmt.Errorf("the endpoint's port %d forwards to %q: bad port: %w", t.port, t.addr, err)
	}
	ip, err := r.resolve(ctx, host)
	if err != nil {
		return nil, 0, err
	}
	return []netip.Addr{ip}, int32(port), nil
}

func (r *Reconciler) reconcileEndpointSlice(ctx context.Context, sv *vspherev1.Supervisor, svc *corev1.Service, t endpointTarget, obs *observation, ips []netip.Addr, port int32) error {
	addrType := discoveryv1.AddressTypeIPv4
	var endpoints []discoveryv1.Endpoint
	for i, ip := range ips {
		typ, err := endpointAddress(ip)
		if err != nil {
			return err
		}
		if i == 0 {
			addrType = typ
		}
		endpoints = append(endpoints, discoveryv1.Endpoint{Addresses: []string{ip.String()}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}})
	}
	if len(ips) == 0 && obs.controlPlane != nil {
		// No VM runs yet: the management network says the type.
		typ, err := endpointAddress(obs.controlPlane.floatingIP)
		if err != nil {
			return err
		}
		addrType = typ
	}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: fmt.Sprintf("%s-%d", svc.Name, t.port)}}
	err := r.Client.Get(ctx, client.ObjectKeyFromObject(slice), slice)
	if err == nil && slice.AddressType != addrType && metav1.IsControlledBy(slice, sv) {
		// The address type cannot change: replace the slice. Its deletion
		// requeues.
		return client.IgnoreNotFound(r.Client.Delete(ctx, slice))
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to get EndpointSlice %s: %w", klog.KObj(slice), err)
	}
	err = r.ensure(ctx, sv, slice, func() {
		if slice.Labels == nil {
			slice.Labels = map[string]string{}
		}
		slice.Labels[discoveryv1.LabelServiceName] = svc.Name
		slice.Labels[discoveryv1.LabelManagedBy] = endpointSliceManager
		slice.Labels[vspherenamespace.SupervisorLabel] = sv.Name
		slice.AddressType = addrType
		slice.Endpoints = endpoints
		slice.Ports = []discoveryv1.EndpointPort{{Name: ptr.To(t.portName), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}}
	})
	if err != nil {
		return fmt.Errorf("failed to apply EndpointSlice %s: %w", klog.KObj(slice), err)
	}
	return nil
}

// resolve returns host's address: itself when it is one, else the first
// address the resolver gives (IPv4 first).
func (r *Reconciler) resolve(ctx context.Context, host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, nil
	}
	res := r.resolver
	if res == nil {
		res = net.DefaultResolver
	}
	ips, err := res.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("failed to resolve the API server host %s: %w", host, err)
	}
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			return ip.Unmap(), nil
		}
	}
	return ips[0], nil
}
