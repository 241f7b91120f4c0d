package vapi

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"

	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/iprange"
)

// listNetworks: the cluster's workload networks, the primary first.
func (s *Server) listNetworks(w http.ResponseWriter, r *http.Request) {
	sup, err := s.supervisor(r.Context(), r.PathValue("cluster"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := []NetworkSpec{}
	for _, n := range sup.Spec.WorkloadNetworks() {
		out = append(out, networkInfo(n))
	}
	writeResult(w, r, out)
}

// getNetwork: one workload network (Networks.Info).
func (s *Server) getNetwork(w http.ResponseWriter, r *http.Request) {
	sup, err := s.supervisor(r.Context(), r.PathValue("cluster"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	name := r.PathValue("network")
	i := slices.IndexFunc(sup.Spec.WorkloadNetworks(), func(n vspherev1.SupervisorWorkloadNetwork) bool { return n.Name == name })
	if i < 0 {
		writeError(w, r, networkNotFound(sup.Name, name))
		return
	}
	writeResult(w, r, networkInfo(sup.Spec.WorkloadNetworks()[i]))
}

func networkNotFound(cluster, name string) error {
	return newError(errNotFound, "vcenter.wcp.network.notfound", "cluster %s has no workload network %q", cluster, name)
}

// createNetwork: a workload network added after enable
// (Networks.CreateSpec); vSphere Namespaces may then name it.
func (s *Server) createNetwork(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var spec NetworkSpec
	if err := readBody(r, &spec, "spec"); err != nil {
		writeError(w, r, err)
		return
	}
	sup, err := s.supervisor(ctx, r.PathValue("cluster"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.validateNewNetwork(ctx, sup, &spec); err != nil {
		writeError(w, r, err)
		return
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sup, err := s.supervisor(ctx, r.PathValue("cluster"))
		if err != nil {
			return err
		}
		if slices.ContainsFunc(sup.Spec.WorkloadNetworks(), func(n vspherev1.SupervisorWorkloadNetwork) bool { return n.Name == spec.Network }) {
			return newError(errAlreadyExists, "vcenter.wcp.network.exists", "cluster %s already has a workload network %q", sup.Name, spec.Network)
		}
		sup.Spec.AdditionalWorkloadNetworks = append(sup.Spec.AdditionalWorkloadNetworks, workloadNetworkFor(&spec))
		return s.opts.Client.Update(ctx, sup)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	ctrl.LoggerFrom(ctx).Info("Workload network created", "cluster", sup.Name, "network", spec.Network, "user", ctx.Value(userKey{}))
	writeDone(w, r)
}

// validateNewNetwork checks a network to add: the same rules as enable's,
// and ranges that overlap nothing the Supervisor uses. Whether the name is
// free is checked as it is added.
func (s *Server) validateNewNetwork(ctx context.Context, sup *vspherev1.Supervisor, spec *NetworkSpec) error {
	portgroups, _, err := s.networks(ctx)
	if err != nil {
		return err
	}
	var bad invalidArgs
	used := supervisorSpans(sup)
	spans, _ := validateNetwork(&bad, "", spec, portgroups, nil, nil)
	for _, sp := range spans {
		for _, u := range used {
			if sp.overlaps(u) {
				bad.add(sp.field, "overlaps %s (%s-%s)", u.field, u.first, u.last)
			}
		}
	}
	return bad.err()
}

// supervisorSpans are the address ranges an enabled Supervisor uses,
// named by the enable spec's fields.
func supervisorSpans(sup *vspherev1.Supervisor) []span {
	var out []span
	add := func(field, address string, count int) {
		first, err := netip.ParseAddr(address)
		if err != nil {
			return
		}
		if rg, err := iprange.FromCount(first, count); err == nil {
			out = append(out, span{field: field, first: rg.First, last: rg.Last})
		}
	}
	if p, err := netip.ParsePrefix(sup.Spec.ServiceCIDR); err == nil {
		out = append(out, span{field: "service_cidr", first: p.Masked().Addr(), last: iprange.LastOf(p)})
	}
	if a := sup.Spec.ManagementNetwork.AddressRange; a != nil {
		add("master_management_network.address_range", a.StartingAddress, int(a.AddressCount))
	}
	for _, n := range sup.Spec.WorkloadNetworks() {
		for i, r := range n.AddressRanges {
			add(fmt.Sprintf("workload network %s address_ranges[%d]", n.Name, i), r.Address, int(r.Count))
		}
	}
	for i, r := range sup.Spec.LoadBalancer.AddressRanges {
		add(fmt.Sprintf("load_balancer_config_spec.address_ranges[%d]", i), r.Address, int(r.Count))
	}
	return out
}

// deleteNetwork removes a workload network added to the cluster; the
// primary one, and one a vSphere Namespace uses, stay.
func (s *Server) deleteNetwork(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("network")
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sup, err := s.supervisor(ctx, r.PathValue("cluster"))
		if err != nil {
			return err
		}
		if sup.Spec.WorkloadNetwork.Name == name {
			return newError(errInvalidArgument, "vcenter.wcp.network.primary", "network %q is the cluster's primary workload network and cannot be deleted", name)
		}
		i := slices.IndexFunc(sup.Spec.AdditionalWorkloadNetworks, func(n vspherev1.SupervisorWorkloadNetwork) bool { return n.Name == name })
		if i < 0 {
			return networkNotFound(sup.Name, name)
		}
		var namespaces vspherev1.VSphereNamespaceList
		if err := s.opts.Client.List(ctx, &namespaces); err != nil {
			return fmt.Errorf("failed to list vSphere Namespaces: %w", err)
		}
		for _, vns := range namespaces.Items {
			if vns.Spec.Cluster == sup.Name && slices.Contains(vns.Spec.Networks, name) {
				return newError(errInvalidArgument, "vcenter.wcp.network.inuse", "network %q is used by vSphere Namespace %s", name, vns.Name)
			}
		}
		sup.Spec.AdditionalWorkloadNetworks = slices.Delete(sup.Spec.AdditionalWorkloadNetworks, i, i+1)
		return s.opts.Client.Update(ctx, sup)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeDone(w, r)
}
