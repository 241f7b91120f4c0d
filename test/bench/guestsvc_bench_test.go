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

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/controllers/guests"
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
// HAProxy. It also tells where that time goes, from the supervisor's side
// (supervisorStages): until the Service's VirtualMachineService exists,
// and until lbapi wrote the VIP into it.
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
	starts := make([]time.Time, guestServices)
	stages := watchSupervisorStages(ctx, b, c, cluster)
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
			starts[i] = start
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
	created, served := stages.stop(starts)
	slices.Sort(durations)
	p50, p99 := durations[len(durations)/2], durations[len(durations)*99/100]
	return guestServiceResult{
		scenario: fmt.Sprintf("%d Services of type LoadBalancer (port 80) created at once in the seed's guest with its kubeconfig (no client-side rate limit: twenty users' kubectls do not share one); each is answered once its VIP is in the guest Service's status and an HTTP GET to it returns 200 from a worker's node port through HAProxy (polled every 50 ms). The supervisor's VirtualMachineServices are listed every %s to tell where the time goes, each stage from the guest Service's creation.", guestServices, stagePoll),
		rows: fmt.Sprintf("| Guest Service → VIP answering, p50 / p99 / max of %d | %s / %s / %s | p99 under %s | %s |\n", guestServices,
			seconds(p50), seconds(p99), seconds(durations[len(durations)-1]), seconds(goalGuestServiceP99), met(p99 <= goalGuestServiceP99)) +
			fmt.Sprintf("| of which: until its VirtualMachineService exists (guest controller), p50 / p99 | %s / %s | – | – |\n", seconds(created[len(created)/2]), seconds(created[len(created)*99/100])) +
			fmt.Sprintf("| of which: until lbapi wrote the VIP into the VirtualMachineService (HAProxy runs it, it accepts a connection), p50 / p99 | %s / %s | – | – |\n", seconds(served[len(served)/2]), seconds(served[len(served)*99/100])) +
			fmt.Sprintf("| HAProxy transactions / reload outcomes read by lbapi (failed) / Data Plane API requests until the %d answered (`/metrics`) | %.0f / %.0f (%.0f) / %.0f | – | – |\n",
				guestServices, lb.transactions, lb.reloads, lb.failedReloads, lb.dataplaneRequests),
	}
}

// stagePoll is how often supervisorStages lists the VirtualMachineServices.
const stagePoll = 20 * time.Millisecond

// supervisorStages records, per guest Service (by name), when its
// VirtualMachineService was first listed and when it first showed a VIP.
type supervisorStages struct {
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	created map[string]time.Time
	served  map[string]time.Time
}

// watchSupervisorStages lists the cluster's VirtualMachineServices every
// stagePoll until stop.
func watchSupervisorStages(ctx context.Context, b *testing.B, c client.Client, cluster client.ObjectKey) *supervisorStages {
	ctx, cancel := context.WithCancel(ctx)
	st := &supervisorStages{cancel: cancel, done: make(chan struct{}), created: map[string]time.Time{}, served: map[string]time.Time{}}
	go func() {
		defer close(st.done)
		t := time.NewTicker(stagePoll)
		defer t.Stop()
		for {
			list := &vmopv1.VirtualMachineServiceList{}
			err := c.List(ctx, list, client.InNamespace(cluster.Namespace), client.MatchingLabels{guests.ClusterNameLabel: cluster.Name})
			now := time.Now()
			if err == nil {
				st.mu.Lock()
				for _, s := range list.Items {
					name := s.Labels[guests.ServiceNameLabel]
					if _, ok := st.created[name]; !ok {
						st.created[name] = now
					}
					if _, ok := st.served[name]; !ok && len(s.Status.LoadBalancer.Ingress) > 0 {
						st.served[name] = now
					}
				}
				st.mu.Unlock()
			} else if ctx.Err() == nil {
				b.Logf("listing the VirtualMachineServices: %v", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return st
}

// stop ends the listing and returns, sorted, each guest Service's time
// from its creation (starts, by index in web-NN) to each stage.
func (st *supervisorStages) stop(starts []time.Time) (created, served []time.Duration) {
	st.cancel()
	<-st.done
	for i, start := range starts {
		name := fmt.Sprintf("web-%02d", i)
		if t, ok := st.created[name]; ok {
			created = append(created, t.Sub(start))
		}
		if t, ok := st.served[name]; ok {
			served = append(served, t.Sub(start))
		}
	}
	slices.Sort(created)
	slices.Sort(served)
	if len(created) == 0 {
		created = []time.Duration{0}
	}
	if len(served) == 0 {
		served = []time.Duration{0}
	}
	return created, served
}
