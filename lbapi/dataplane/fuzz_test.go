package dataplane

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// answer is a fuzzed server: every request gets the same status, body and
// Reload-ID header.
type answer struct {
	code     int
	body     []byte
	reloadID string
}

func (a answer) RoundTrip(*http.Request) (*http.Response, error) {
	h := http.Header{}
	h.Set("Reload-ID", a.reloadID)
	return &http.Response{StatusCode: a.code, Header: h, Body: io.NopCloser(bytes.NewReader(a.body))}, nil
}

// Whatever a Data Plane API server answers, the client decodes it or
// returns an error, never panics, maps statuses to its sentinels and
// never repeats the password.
func FuzzClientDecodesAnswers(f *testing.F) {
	f.Add(200, []byte(`[{"name":"lb_ns1_web","mode":"tcp"}]`), "", "v3")
	f.Add(200, []byte(`{"data":[{"name":"lb_ns1_web","address":"127.20.0.2","port":31000}]}`), "", "v2")
	f.Add(200, []byte(`{"id":"tx-1","status":"in_progress","_version":3}`), "1", "v3")
	f.Add(202, []byte(`{"id":"1","status":"failed","response":"[ALERT] cannot bind socket"}`), "1", "v3")
	f.Add(400, []byte(`{"code":400,"message":"validation error: port out of range"}`), "", "v3")
	f.Add(401, []byte(`{"code":401,"message":"unauthorized"}`), "", "v2")
	f.Add(409, []byte(`version mismatch`), "", "v3")
	f.Add(200, []byte(`7`), "", "")
	f.Add(200, []byte(`{"data":`), "", "v2")
	f.Add(200, []byte(`{"runtimeAPI":"/run/haproxy.sock","stats":[{"name":"lb_a","type":"frontend","stats":{"status":"OPEN"}},{"backend_name":"lb_a","name":"vm","type":"server","stats":{"addr":"10.0.0.1:80"}}]}`), "", "v3")
	f.Add(200, []byte(`[{"runtimeAPI":"/run/haproxy.sock","stats":[{"name":"lb_a","type":"backend","stats":{"status":"UP"}}]}]`), "", "v2")
	f.Add(500, []byte(`{"runtimeAPI":"/run/haproxy.sock","error":"connection refused"}`), "", "v3")
	f.Add(200, []byte(`[null,{"error":"dial unix"}]`), "", "v2")
	const password = "s3cr3t-Password"
	f.Fuzz(func(t *testing.T, code int, body []byte, reloadID, version string) {
		if code < 100 || code > 999 {
			code = 100 + (code%900+900)%900 // any HTTP status
		}
		// The client only ever holds a version Detect found.
		version = []string{"", "v2", "v3"}[len(version)%3]
		c := &Client{BaseURL: "https://127.0.0.1:5556", Username: "lbapi", Password: password,
			HTTP: &http.Client{Transport: answer{code: code, body: body, reloadID: reloadID}}, APIVersion: version}
		ctx := context.Background()
		var errs []error
		keep := func(err error) { errs = append(errs, err) }
		_, err := c.Detect(ctx)
		keep(err)
		c.APIVersion = version
		_, err = c.Version(ctx)
		keep(err)
		_, err = c.StartTransaction(ctx, 1)
		keep(err)
		_, err = c.CommitReload(ctx, "tx-1")
		keep(err)
		_, err = c.Reload(ctx, "1")
		keep(err)
		_, err = c.Frontends(ctx, "tx-1")
		keep(err)
		_, err = c.Backends(ctx, "")
		keep(err)
		_, err = c.Binds(ctx, "lb_ns1_web", "tx-1")
		keep(err)
		_, err = c.Servers(ctx, "lb_ns1_web", "tx-1")
		keep(err)
		st, err := c.Stats(ctx)
		keep(err)
		if err == nil && st == nil {
			t.Fatal("Stats returned neither stats nor an error")
		}
		for _, err := range errs {
			if err == nil {
				continue
			}
			if strings.Contains(err.Error(), password) {
				t.Fatalf("an error repeats the password: %v", err)
			}
			if code == http.StatusConflict && c.APIVersion != "" && !errors.Is(err, ErrConflict) && !strings.Contains(err.Error(), "answers neither") {
				t.Errorf("a 409 is not ErrConflict: %v", err)
			}
		}
	})
}
