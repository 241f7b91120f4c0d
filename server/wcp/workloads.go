package wcp

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	ctrl "sigs.k8s.io/controller-runtime"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// Workload is one vSphere Namespace in GET /wcp/workloads, with the
// Supervisor endpoint that serves it.
type Workload struct {
	Namespace  string `json:"namespace"`
	MasterHost string `json:"master_host"`
	// ControlPlaneAPIServerPort is a string on the wire, under its
	// misspelled wire name.
	ControlPlaneAPIServerPort string   `json:"conrol_plane_api_server_port"`
	ControlPlaneDNSNames      []string `json:"control_plane_dns_names"`
}

// workloads: GET /wcp/workloads with a Bearer token or Basic credentials.
// It lists the vSphere Namespaces the user may access; none is an empty
// list.
func (s *Server) workloads(w http.ResponseWriter, r *http.Request) {
	id, herr := s.identify(r)
	if herr != nil {
		herr.write(w)
		return
	}
	list, err := s.workloadsOf(r.Context(), id)
	if err != nil {
		ctrl.LoggerFrom(r.Context()).Error(err, "Failed to list the workloads", "user", id.Subject())
		writeError(w, http.StatusServiceUnavailable, errUnavailable, "the namespaces cannot be listed now; try again later")
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// workloadsOf returns, sorted by namespace, the vSphere Namespaces id has a
// role in (every one for an administrator) whose Supervisor has an
// endpoint.
func (s *Server) workloadsOf(ctx context.Context, id Identity) ([]Workload, error) {
	namespaces := &vspherev1.VSphereNamespaceList{}
	if err := s.reader.List(ctx, namespaces); err != nil {
		return nil, fmt.Errorf("failed to list VSphereNamespaces: %w", err)
	}
	supervisors, err := s.supervisorsByName(ctx)
	if err != nil {
		return nil, err
	}
	admin := s.isAdministrator(id)
	out := []Workload{}
	for i := range namespaces.Items {
		ns := &namespaces.Items[i]
		if !ns.DeletionTimestamp.IsZero() || !(admin || canSeeNamespace(RoleIn(ns, id))) {
			continue
		}
		sv, ok := supervisors[ns.Spec.Cluster]
		if !ok || sv.Status.APIServerClusterEndpoint == "" {
			ctrl.LoggerFrom(ctx).V(4).Info("Leaving out a namespace whose Supervisor has no endpoint", "VSphereNamespace", ns.Name, "cluster", ns.Spec.Cluster)
			continue
		}
		out = append(out, workloadOf(ns, sv))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out, nil
}

func workloadOf(ns *vspherev1.VSphereNamespace, sv *vspherev1.Supervisor) Workload {
	names := append([]string{}, sv.Spec.MasterDNSNames...)
	return Workload{
		Namespace:                 ns.Name,
		MasterHost:                sv.Status.APIServerClusterEndpoint,
		ControlPlaneAPIServerPort: APIServerPort,
		ControlPlaneDNSNames:      names,
	}
}

func (s *Server) supervisorsByName(ctx context.Context) (map[string]*vspherev1.Supervisor, error) {
	list := &vspherev1.SupervisorList{}
	if err := s.reader.List(ctx, list); err != nil {
		return nil, fmt.Errorf("failed to list Supervisors: %w", err)
	}
	out := make(map[string]*vspherev1.Supervisor, len(list.Items))
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out, nil
}
