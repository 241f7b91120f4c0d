package vapi

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// clusterAction: POST .../clusters/{cluster}?action=enable|disable.
func (s *Server) clusterAction(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("action") {
	case "enable":
		s.enable(w, r)
	case "disable":
		s.disable(w, r)
	default:
		writeError(w, r, newError(errInvalidArgument, "vcenter.wcp.action", "action: want enable or disable, not %q", r.URL.Query().Get("action")))
	}
}

// enable validates the whole spec, then records the credentials Secret
// and the Supervisor; nothing is created when the spec is refused.
func (s *Server) enable(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("cluster")
	var spec EnableSpec
	if err := readBody(r, &spec, "spec"); err != nil {
		writeError(w, r, err)
		return
	}
	cluster, err := s.findCluster(ctx, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := s.supervisor(ctx, id); err == nil {
		writeError(w, r, newError(errAlreadyExists, "vcenter.wcp.cluster.enabled", "Workload Management is already enabled on cluster %s", id))
		return
	}
	if err := s.validateEnable(ctx, sessionID(r), &spec); err != nil {
		writeError(w, r, err)
		return
	}
	sup, secret := supervisorFor(id, cluster.Name, &spec)
	if err := s.create(ctx, secret, sup); err != nil {
		writeError(w, r, err)
		return
	}
	ctrl.LoggerFrom(ctx).Info("Workload Management enabled", "cluster", id, "user", r.Context().Value(userKey{}))
	writeDone(w, r)
}

// create makes the system namespace, the Secret and the Supervisor; an
// existing Supervisor (a racing enable) is already_exists.
func (s *Server) create(ctx context.Context, secret *corev1.Secret, sup *vspherev1.Supervisor) error {
	c := s.opts.Client
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: vspherev1.SupervisorSystemNamespace}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create namespace %s: %w", ns.Name, err)
	}
	if err := c.Create(ctx, secret); apierrors.IsAlreadyExists(err) {
		// Left by an enable that lost a race or by a disable still
		// running: the spec's credentials are the ones to keep.
		err = c.Update(ctx, secret)
		if err != nil {
			return fmt.Errorf("failed to update Secret %s: %w", secret.Name, err)
		}
	} else if err != nil {
		return fmt.Errorf("failed to create Secret %s: %w", secret.Name, err)
	}
	if err := c.Create(ctx, sup); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return newError(errAlreadyExists, "vcenter.wcp.cluster.enabled", "Workload Management is already enabled on cluster %s", sup.Name)
		}
		return fmt.Errorf("failed to create Supervisor %s: %w", sup.Name, err)
	}
	return nil
}

// disable deletes the Supervisor; its controller removes what enable made
// and the Supervisor goes last.
func (s *Server) disable(w http.ResponseWriter, r *http.Request) {
	sup, err := s.supervisor(r.Context(), r.PathValue("cluster"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.opts.Client.Delete(r.Context(), sup); err != nil && !apierrors.IsNotFound(err) {
		writeError(w, r, fmt.Errorf("failed to delete Supervisor %s: %w", sup.Name, err))
		return
	}
	ctrl.LoggerFrom(r.Context()).Info("Workload Management disabled", "cluster", sup.Name, "user", r.Context().Value(userKey{}))
	writeDone(w, r)
}

// updateCluster: PATCH .../clusters/{cluster}, what may change after
// enable.
func (s *Server) updateCluster(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var spec UpdateSpec
	if err := readBody(r, &spec, "spec"); err != nil {
		writeError(w, r, err)
		return
	}
	id := r.PathValue("cluster")
	if _, err := s.supervisor(ctx, id); err != nil {
		writeError(w, r, err)
		return
	}
	var bad invalidArgs
	if spec.SizeHint != "" {
		if _, ok := vspherev1.ControlPlaneSizes[spec.SizeHint]; !ok {
			bad.add("size_hint", "want TINY, SMALL, MEDIUM or LARGE, not %q", spec.SizeHint)
		}
	}
	validateDNSNames(&bad, "Master_DNS_names", spec.MasterDNSNames)
	validateHosts(&bad, "master_DNS", spec.MasterDNS, true)
	validateHosts(&bad, "worker_DNS", spec.WorkerDNS, true)
	validateHosts(&bad, "master_NTP_servers", spec.MasterNTPServers, false)
	validateHosts(&bad, "workload_ntp_servers", spec.WorkloadNTPServers, false)
	if spec.DefaultKubernetesServiceContentLibrary != "" {
		s.validateLibrary(ctx, &bad, sessionID(r), "default_kubernetes_service_content_library", spec.DefaultKubernetesServiceContentLibrary)
	}
	if err := bad.err(); err != nil {
		writeError(w, r, err)
		return
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sup, err := s.supervisor(ctx, id)
		if err != nil {
			return err
		}
		applyUpdate(&sup.Spec, &spec)
		return s.opts.Client.Update(ctx, sup)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeDone(w, r)
}

func applyUpdate(dst *vspherev1.SupervisorSpec, u *UpdateSpec) {
	set := func(dst *[]string, v []string) {
		if v != nil {
			*dst = v
		}
	}
	set(&dst.MasterDNS, u.MasterDNS)
	set(&dst.WorkerDNS, u.WorkerDNS)
	set(&dst.MasterDNSSearchDomains, u.MasterDNSSearchDomains)
	set(&dst.MasterNTPServers, u.MasterNTPServers)
	set(&dst.MasterDNSNames, u.MasterDNSNames)
	set(&dst.WorkloadNTPServers, u.WorkloadNTPServers)
	if u.LoginBanner != nil {
		dst.LoginBanner = *u.LoginBanner
	}
	if u.SizeHint != "" {
		dst.SizeHint = u.SizeHint
	}
	if u.DefaultKubernetesServiceContentLibrary != "" {
		dst.DefaultKubernetesServiceContentLibrary = u.DefaultKubernetesServiceContentLibrary
	}
}
