package httpmetrics

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// samples counts the observations of one route and status code.
func samples(t *testing.T, route, code string) uint64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "supervisor_http_request_duration_seconds" {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if (l.GetName() == "route" && l.GetValue() != route) || (l.GetName() == "code" && l.GetValue() != code) {
					continue next
				}
			}
			return m.GetHistogram().GetSampleCount()
		}
	}
	return 0
}

// Each request is observed once under its route pattern and the status
// the handler wrote (200 when it wrote none).
func TestTimeObservesRouteAndStatus(t *testing.T) {
	h := Time("wcp", "/wcp/login", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	for _, auth := range []string{"", "Basic x", "Basic y"} {
		r := httptest.NewRequest(http.MethodPost, "/wcp/login", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		h(httptest.NewRecorder(), r)
	}
	if n := samples(t, "/wcp/login", "401"); n != 1 {
		t.Errorf("%d samples of 401, want 1", n)
	}
	if n := samples(t, "/wcp/login", "200"); n != 2 {
		t.Errorf("%d samples of 200, want 2", n)
	}
}
