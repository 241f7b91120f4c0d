package vapi

import (
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/open-supervisor/supervisor/controllers/vmservice"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
	"github.com/open-supervisor/supervisor/test/envtest"
)

var (
	suiteClient   client.Client
	suiteSim      *vcsim.Simulator
	suitePolicies *storagepolicy.Cache
)

func TestMain(m *testing.M) {
	// Fuzzing (`make fuzz`) runs only FuzzReadBody, in worker processes that
	// each run TestMain: it needs no API server or vCenter.
	flag.Parse()
	if fuzz := flag.Lookup("test.fuzz"); fuzz != nil && fuzz.Value.String() != "" {
		os.Exit(m.Run())
	}
	var err error
	suiteSim, err = vcsim.Start(context.Background(), vcsim.Options{})
	if err != nil {
		panic(err)
	}
	suitePolicies = &storagepolicy.Cache{Lister: &storagepolicy.Finder{Client: suiteSim.Client.Client}}
	code := envtest.RunSuite(m, envtest.SuiteOptions{
		// VM classes and namespaces' objects go through the VM service's
		// webhooks, which the API server calls.
		Setup: func(_ context.Context, s *envtest.Suite) error { return vmservice.SetupWebhooks(s.Manager) },
		Ready: func(_ context.Context, s *envtest.Suite) error {
			suiteClient = s.Client
			return nil
		},
	})
	suiteSim.Stop()
	os.Exit(code)
}

// newTestServer serves the API over TLS and logs in as the simulator's admin.
func newTestServer(t *testing.T) (*httptest.Server, string) {
	srv := httptest.NewTLSServer(New(Options{VCenter: suiteSim.URL, CAFile: suiteSim.CAFile, Client: suiteClient, VCenterClient: simClient, StoragePolicies: suitePolicies}))
	t.Cleanup(srv.Close)
	code, body := do(t, srv, "POST", "/api/session", "", nil, url.UserPassword(suiteSim.Username, suiteSim.Password))
	var id string
	if code != 201 || json.Unmarshal(body, &id) != nil {
		t.Fatalf("login %d %s", code, body)
	}
	return srv, id
}
