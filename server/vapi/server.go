package vapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/vmware/govmomi/vim25"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
)

// Options configure the REST API.
type Options struct {
	// VCenter is vCenter's SDK URL; callers' credentials and sessions are
	// checked against it.
	VCenter *url.URL
	// CAFile is the PEM bundle vCenter's certificate must chain to.
	CAFile string
	// Insecure skips verifying vCenter's certificate. Only by explicit
	// choice.
	Insecure bool
	// Client reads and writes the supervisor's Kubernetes objects.
	Client client.Client
	// VCenterClient returns the supervisor's own authenticated vCenter
	// client, to read what exists (clusters, portgroups, policies,
	// libraries).
	VCenterClient func(ctx context.Context) (*vim25.Client, error)
	// StoragePolicies is vCenter's storage policies, cached (the
	// controllers share the cache).
	StoragePolicies *storagepolicy.Cache
}

// Server serves the REST API.
type Server struct {
	opts     Options
	sessions *sessions
	mux      *http.ServeMux
}

// New returns the REST API's handler.
func New(o Options) *Server {
	s := &Server{opts: o, sessions: &sessions{vcURL: o.VCenter, caFile: o.CAFile, insecure: o.Insecure}, mux: http.NewServeMux()}
	s.routes()
	return s
}

// ServeHTTP serves the REST API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Owns says whether the REST API serves r's path; the front passes every
// other path to vCenter.
func (s *Server) Owns(r *http.Request) bool {
	_, pattern := s.mux.Handler(r)
	return pattern != ""
}

func (s *Server) routes() {
	m := s.mux
	// Sessions.
	m.HandleFunc("POST /api/session", s.createSession)
	m.HandleFunc("GET /api/session", s.getSession)
	m.HandleFunc("DELETE /api/session", s.deleteSession)
	m.HandleFunc("POST /rest/com/vmware/cis/session", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("~action") == "get" {
			s.getSession(w, r)
			return
		}
		s.createSession(w, r)
	})
	m.HandleFunc("DELETE /rest/com/vmware/cis/session", s.deleteSession)

	// Clusters.
	const nm = "/vcenter/namespace-management"
	route(m, "GET", nm+"/clusters", s.authenticated(s.listClusters))
	route(m, "GET", nm+"/clusters/{cluster}", s.authenticated(s.getCluster))
	route(m, "POST", nm+"/clusters/{cluster}", s.authenticated(s.clusterAction))
	route(m, "PATCH", nm+"/clusters/{cluster}", s.authenticated(s.updateCluster))
	route(m, "GET", nm+"/clusters/{cluster}/networks", s.authenticated(s.listNetworks))
	route(m, "POST", nm+"/clusters/{cluster}/networks", s.authenticated(s.createNetwork))
	route(m, "GET", nm+"/clusters/{cluster}/networks/{network}", s.authenticated(s.getNetwork))
	route(m, "DELETE", nm+"/clusters/{cluster}/networks/{network}", s.authenticated(s.deleteNetwork))
	route(m, "GET", nm+"/clusters/{cluster}/load-balancers", s.authenticated(s.listLoadBalancers))
	route(m, "GET", nm+"/cluster-compatibility", s.authenticated(s.clusterCompatibility))
	route(m, "GET", nm+"/cluster-size-info", s.authenticated(s.clusterSizeInfo))
	route(m, "GET", nm+"/distributed-switch-compatibility", s.authenticated(s.switchCompatibility))

	// VM classes.
	route(m, "GET", nm+"/virtual-machine-classes", s.authenticated(s.listVMClasses))
	route(m, "POST", nm+"/virtual-machine-classes", s.authenticated(s.createVMClass))
	route(m, "GET", nm+"/virtual-machine-classes/{class}", s.authenticated(s.getVMClass))
	route(m, "PATCH", nm+"/virtual-machine-classes/{class}", s.authenticated(s.updateVMClass))
	route(m, "DELETE", nm+"/virtual-machine-classes/{class}", s.authenticated(s.deleteVMClass))

	// vSphere Namespaces.
	const ns = "/vcenter/namespaces/instances"
	route(m, "GET", ns, s.authenticated(s.listNamespaces))
	route(m, "POST", ns, s.authenticated(s.createNamespace))
	route(m, "GET", ns+"/{namespace}", s.authenticated(s.getNamespace))
	route(m, "PATCH", ns+"/{namespace}", s.authenticated(s.updateNamespace))
	route(m, "PUT", ns+"/{namespace}", s.authenticated(s.setNamespace))
	route(m, "DELETE", ns+"/{namespace}", s.authenticated(s.deleteNamespace))
	route(m, "GET", ns+"/{namespace}/access/{domain}/{subject}", s.authenticated(s.getAccess))
	route(m, "POST", ns+"/{namespace}/access/{domain}/{subject}", s.authenticated(s.createAccess))
	route(m, "PUT", ns+"/{namespace}/access/{domain}/{subject}", s.authenticated(s.setAccess))
	route(m, "DELETE", ns+"/{namespace}/access/{domain}/{subject}", s.authenticated(s.deleteAccess))
}
