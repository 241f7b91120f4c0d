package wcp

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// banner: GET /wcp/loginbanner, no authentication. 200 says "this is a
// Supervisor" to clients; the body is the Supervisor's login banner as
// plain text, empty when none is set.
func (s *Server) banner(w http.ResponseWriter, r *http.Request) {
	sv, err := s.supervisorFor(r.Context(), r.Host)
	if err != nil {
		ctrl.LoggerFrom(r.Context()).Error(err, "Failed to read the login banner")
		writeError(w, http.StatusServiceUnavailable, errUnavailable, "the login banner cannot be read now; try again later")
		return
	}
	text := ""
	if sv != nil {
		text = sv.Spec.LoginBanner
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, text)
}

// supervisorFor returns the Supervisor the login service answers for: the
// pinned one, else the one whose endpoint address or DNS names are the
// request's host, else the only one; nil when none fits.
func (s *Server) supervisorFor(ctx context.Context, requestHost string) (*vspherev1.Supervisor, error) {
	if s.pinned != "" {
		sv := &vspherev1.Supervisor{}
		err := s.reader.Get(ctx, client.ObjectKey{Name: s.pinned}, sv)
		switch {
		case apierrors.IsNotFound(err):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("failed to get Supervisor %s: %w", s.pinned, err)
		}
		return sv, nil
	}
	list := &vspherev1.SupervisorList{}
	if err := s.reader.List(ctx, list); err != nil {
		return nil, fmt.Errorf("failed to list Supervisors: %w", err)
	}
	host := hostOnly(requestHost)
	for i := range list.Items {
		if servesHost(&list.Items[i], host) {
			return &list.Items[i], nil
		}
	}
	if len(list.Items) == 1 {
		return &list.Items[0], nil
	}
	return nil, nil
}

func servesHost(sv *vspherev1.Supervisor, host string) bool {
	if host == "" {
		return false
	}
	if strings.EqualFold(sv.Status.APIServerClusterEndpoint, host) {
		return true
	}
	for _, name := range sv.Spec.MasterDNSNames {
		if strings.EqualFold(name, host) {
			return true
		}
	}
	return false
}

// hostOnly strips the port (and an IPv6 address's brackets) from a Host
// header.
func hostOnly(hostport string) string {
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		return host
	}
	return strings.Trim(hostport, "[]")
}
