package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/embedded"
	"github.com/open-supervisor/supervisor/server/wcp"
	"github.com/open-supervisor/supervisor/test/harness"
)

const (
	loginSection = "login-bench"
	logins       = 100
	goalLoginP99 = 300 * time.Millisecond
	// readsPerRun requests, by readers clients at once, measure the API
	// server's rate with each kind of credential.
	readsPerRun = 1000
	readers     = 8
)

// BenchmarkLogin starts the embedded stack (its login rate limit lifted:
// the one administrator logs in 100 times), logs in 100 times at the
// endpoint's /wcp/login, one after the other as users do (vCenter's
// credential check included), and measures the requests per second
// kube-apiserver answers with a login token against the admin's client
// certificate. It writes its section of bench/RESULTS.md.
func BenchmarkLogin(b *testing.B) {
	if b.N > 1 {
		b.Skip("one run is the whole scenario; use -benchtime 1x")
	}
	ctrl.SetLogger(logr.Discard())
	ctx := context.Background()
	emb := harness.StartEmbedded(b, embedded.Options{GuestPorts: "34000-34999", AddressOffset: 2, LoginRateLimits: &wcp.RateLimits{}})
	var sups vspherev1.SupervisorList
	if err := emb.Manager.GetAPIReader().List(ctx, &sups); err != nil || len(sups.Items) != 1 {
		b.Fatalf("supervisors: %d (%v)", len(sups.Items), err)
	}
	vip := sups.Items[0].Status.APIServerClusterEndpoint
	user, password := emb.Stack.VCenterCredentials()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(emb.Stack.Config.CAData)
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}

	latencies := make([]time.Duration, logins)
	loginsBefore := routeLatencies(b, "wcp", http.MethodPost, "/wcp/login")
	var token string
	for i := range latencies {
		req, _ := http.NewRequest(http.MethodPost, "https://"+vip+"/wcp/login", nil)
		req.SetBasicAuth(user, password)
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var login wcp.LoginResponse
		err = json.NewDecoder(resp.Body).Decode(&login)
		resp.Body.Close()
		latencies[i] = time.Since(t0)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("login %d: %s (%v)", i, resp.Status, err)
		}
		token = login.SessionID
	}
	loginRow := histogramRow(b, "Login latency", routeLatencies(b, "wcp", http.MethodPost, "/wcp/login").Minus(loginsBefore), logins)
	slices.Sort(latencies)
	q := func(f float64) time.Duration { return latencies[int(f*float64(len(latencies)-1))] }

	through := rest.CopyConfig(emb.Stack.Config)
	through.Host = "https://" + vip + ":6443"
	through.QPS, through.Burst = -1, 0
	withToken := rest.AnonymousClientConfig(through)
	withToken.BearerToken = token
	rate := func(cfg *rest.Config) float64 {
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			b.Fatal(err)
		}
		next := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, readers)
		for range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range next {
					if _, err := cs.CoreV1().ConfigMaps("ns1").List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		start := time.Now()
		for range readsPerRun {
			next <- struct{}{}
		}
		close(next)
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		return readsPerRun / time.Since(start).Seconds()
	}
	// The admin first, so that both run on warm connections and caches.
	rate(through)
	admin, jwt := rate(through), rate(withToken)

	b.ReportMetric(float64(q(0.50).Milliseconds()), "ms-login-p50")
	b.ReportMetric(float64(q(0.99).Milliseconds()), "ms-login-p99")
	b.ReportMetric(jwt, "req/s-token")
	b.ReportMetric(admin, "req/s-certificate")
	section := fmt.Sprintf(`## Login (BenchmarkLogin)

%s, %d cores%s. The embedded stack as `+"`make run`"+` starts it, through the endpoint VIP: %d logins at `+"`/wcp/login`"+` one after another (each checks the credentials with a vCenter login and logout, reads the user's groups and signs a token), then %d list requests by %d clients at once with the login token and with the admin's client certificate.

| | measured | goal | met |
|---|---|---|---|
| Login latency p50 / p99, as the client measured it | %d / %d ms | p99 under %d ms | %s |
%s| API requests per second, login token / client certificate | %.0f / %.0f | – | – |

The client's latencies are exact; `+"`/metrics`"+`' are the server's time in the handler, estimated from the histogram's buckets as Prometheus's `+"`histogram_quantile`"+` does (the goal is judged on the client's figures, which include TLS through the VIP).

`, time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), cpuModel(), logins, readsPerRun, readers,
		q(0.50).Milliseconds(), q(0.99).Milliseconds(), goalLoginP99.Milliseconds(), met(q(0.99) <= goalLoginP99),
		loginRow, jwt, admin)
	if path, err := writeSection(loginSection, section); err != nil {
		b.Error(err)
	} else {
		b.Logf("wrote %s", path)
	}
}
