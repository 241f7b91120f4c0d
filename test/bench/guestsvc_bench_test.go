package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	guestServices       = 20
	goalGuestServiceP99 = 2 * time.Second
)

// guestServiceResult is guestServiceVIPs' part of the section.
type guestServiceResult struct{ scenario, rows string }

// guestServiceVIPs creates guestServices Services of type LoadBalancer in
// the cluster's guest at once, with the guest kubeconfig, and measures for
// each the time from its creation until an HTTP request to its VIP
// (status.loadBalancer.ingress) is answered by a worker's node port through
// HAProxy.
func guestServiceVIPs(b *testing.B, c client.Client, cluster client.ObjectKey) guestServiceResult {
	ctx := context.Background()
	secret := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: cluster.Name + "-kubeconfig"}, secret); err != nil {
		b.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data["value"])
	if err != nil {
		b.Fatal(err)
	}
	// Twenty users' kubectls do not share one client's rate limit: without
	// this the 20 pollers wait on client-go's 5 QPS, not on the VIPs.
	cfg.QPS = -1
	guest, err := client.New(cfg, client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := guest.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}}); err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	before := readFigures(b)
	durations := make([]time.Duration, guestServices)
	var wg sync.WaitGroup
	for i := range guestServices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("web-%02d", i)},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
					Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
			}
			start := time.Now()
			if err := guest.Create(ctx, svc); err != nil {
				b.Error(err)
				return
			}
			deadline := start.Add(2 * time.Minute)
			for time.Now().Before(deadline) {
				if err := guest.Get(ctx, client.ObjectKeyFromObject(svc), svc); err == nil && len(svc.Status.LoadBalancer.Ingress) > 0 {
					if resp, err := hc.Get("http://" + svc.Status.LoadBalancer.Ingress[0].IP + "/"); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							durations[i] = time.Since(start)
							return
						}
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
			b.Errorf("guest Service %s: its VIP did not answer within 2 minutes", svc.Name)
		}()
	}
	wg.Wait()
	lb := readFigures(b).minus(before)
	slices.Sort(durations)
	p50, p99 := durations[len(durations)/2], durations[len(durations)*99/100]
	return guestServiceResult{
		scenario: fmt.Sprintf("%d Services of type LoadBalancer (port 80) created at once in the seed's guest with its kubeconfig (no client-side rate limit: twenty users' kubectls do not share one); each is answered once its VIP is in the guest Service's status and an HTTP GET to it returns 200 from a worker's node port through HAProxy (polled every 50 ms).", guestServices),
		rows: fmt.Sprintf("| Guest Service → VIP answering, p50 / p99 / max of %d | %s / %s / %s | p99 under %s | %s |\n", guestServices,
			seconds(p50), seconds(p99), seconds(durations[len(durations)-1]), seconds(goalGuestServiceP99), met(p99 <= goalGuestServiceP99)) +
			fmt.Sprintf("| HAProxy transactions / reload outcomes read by lbapi (failed) / Data Plane API requests until the %d answered (`/metrics`) | %.0f / %.0f (%.0f) / %.0f | – | – |\n",
				guestServices, lb.transactions, lb.reloads, lb.failedReloads, lb.dataplaneRequests),
	}
}
