package wcp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Whatever body `kubectl vsphere login` (or anyone) posts to /wcp/login,
// it reads as a login request or is answered 400/413 with a message;
// never a panic or another status.
func FuzzReadLoginRequest(f *testing.F) {
	f.Add([]byte(``))
	f.Add([]byte(`{"guest_cluster_name":"tkc01","guest_cluster_namespace":"ns1"}`))
	f.Add([]byte(`{"guest_cluster_name":  " tkc01 "}`))
	f.Add([]byte(`{"guest_cluster_name":1}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/wcp/login", strings.NewReader(string(body)))
		req, herr := readLoginRequest(w, r)
		if herr != nil {
			if (herr.status != http.StatusBadRequest && herr.status != http.StatusRequestEntityTooLarge) || herr.message == "" {
				t.Errorf("a bad body gave %d %q, want 400 or 413 with a message", herr.status, herr.message)
			}
			return
		}
		if req.GuestClusterName != strings.TrimSpace(req.GuestClusterName) || req.GuestClusterNamespace != strings.TrimSpace(req.GuestClusterNamespace) {
			t.Errorf("names are not trimmed: %+v", req)
		}
	})
}
