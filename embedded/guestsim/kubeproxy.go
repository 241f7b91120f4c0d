package guestsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// kubeProxyRetry is how soon a node port that could not be bound is tried
// again.
const kubeProxyRetry = 5 * time.Second

// kubeProxy answers on one guest node's address at the node ports of the
// guest's Services, as kube-proxy makes a node forward them. No Pods run
// behind them, so each answers HTTP itself with the Service, port and node
// it reached: enough for a client of a LoadBalancer VIP to see the path
// work (VIP → HAProxy → node port).
type kubeProxy struct {
	log       logr.Logger
	node, ip  string
	cancel    context.CancelFunc
	done      chan struct{}
	mu        sync.Mutex
	listeners map[int32]*nodePort
}

// nodePort is one listening node port and what it answers.
type nodePort struct {
	answer string
	srv    *http.Server
	ln     *trackingListener
}

// startKubeProxy watches the guest's Services with cfg and serves their
// node ports on ip until Stop.
func startKubeProxy(log logr.Logger, cfg *rest.Config, node, ip string) (*kubeProxy, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to build the kube-proxy client of %s: %w", node, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &kubeProxy{log: log, node: node, ip: ip, cancel: cancel, done: make(chan struct{}), listeners: map[int32]*nodePort{}}
	factory := informers.NewSharedInformerFactory(cs, 0)
	services := factory.Core().V1().Services()
	changed := make(chan struct{}, 1)
	notify := func(any) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	if _, err := services.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: notify, UpdateFunc: func(_, o any) { notify(o) }, DeleteFunc: notify,
	}); err != nil {
		cancel()
		return nil, fmt.Errorf("failed to watch the guest's Services: %w", err)
	}
	factory.Start(ctx.Done())
	go func() {
		defer close(p.done)
		retry := time.NewTicker(kubeProxyRetry)
		defer retry.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
			case <-retry.C:
			}
			if !services.Informer().HasSynced() {
				continue
			}
			list, err := services.Lister().List(labels.Everything())
			if err != nil {
				continue
			}
			p.sync(list)
		}
	}()
	return p, nil
}

// sync opens the node ports Services have and closes the others.
func (p *kubeProxy) sync(services []*corev1.Service) {
	want := map[int32]string{}
	for _, svc := range services {
		if svc.Spec.Type != corev1.ServiceTypeNodePort && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		for _, port := range svc.Spec.Ports {
			if port.NodePort != 0 && port.Protocol == corev1.ProtocolTCP {
				want[port.NodePort] = fmt.Sprintf("service %s/%s port %d node %s\n", svc.Namespace, svc.Name, port.Port, p.node)
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for port, np := range p.listeners {
		if answer, ok := want[port]; !ok || answer != np.answer {
			np.close()
			delete(p.listeners, port)
		}
	}
	for port, answer := range want {
		if _, ok := p.listeners[port]; ok {
			continue
		}
		np, err := serveNodePort(p.log, net.JoinHostPort(p.ip, strconv.Itoa(int(port))), answer)
		if err != nil {
			p.log.V(2).Info("Cannot serve a node port yet", "port", port, "err", err.Error())
			continue
		}
		p.listeners[port] = np
	}
}

// serveNodePort answers every HTTP request on addr with answer.
func serveNodePort(log logr.Logger, addr, answer string) (*nodePort, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	np := &nodePort{answer: answer, ln: newTrackingListener(ln)}
	np.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, answer)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          stdLogger(log),
	}
	go func() {
		if err := np.srv.Serve(np.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.V(2).Info("Node port stopped", "address", addr, "err", err.Error())
		}
	}()
	return np, nil
}

func (np *nodePort) close() {
	_ = np.srv.Close()
	np.ln.closeAll()
}

// Stop closes every node port and stops watching.
func (p *kubeProxy) Stop() {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	for port, np := range p.listeners {
		np.close()
		delete(p.listeners, port)
	}
}
