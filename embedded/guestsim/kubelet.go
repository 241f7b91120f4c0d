package guestsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/utils/ptr"
)

const (
	// KubeletPort is where each node's kubelet serves its API (port-forward).
	KubeletPort = 10250
	// leaseDuration and leaseRenewInterval are the kubelet's defaults.
	leaseDuration      = 40 * time.Second
	leaseRenewInterval = 10 * time.Second
	// streamIdleTimeout and streamCreationTimeout are the kubelet's
	// port-forward defaults.
	streamIdleTimeout     = 4 * time.Hour
	streamCreationTimeout = 30 * time.Second
)

// nodeSpec is what a kubelet registers its Node with.
type nodeSpec struct {
	name, ip, biosUUID string
	// kubeletVersion is the release's Kubernetes version.
	kubeletVersion string
	controlPlane   bool
	// capacity comes from the VM's class.
	capacity corev1.ResourceList
	// labels and taints are kubeadm's --node-labels and
	// --register-with-taints (the node pool's).
	labels map[string]string
	taints []corev1.Taint
}

// kubelet simulates one node's kubelet: it registers the Node with the
// guest API server under the node's own credentials, renews its Lease,
// creates the mirror Pods of a control plane's static Pods, and serves the
// kubelet API on <node IP>:10250 for port-forwards (KubeadmControlPlane
// reaches etcd that way). A simulated kube-proxy answers on the node's
// address at every node port.
type kubelet struct {
	spec   nodeSpec
	log    logr.Logger
	client kubernetes.Interface
	// forward connects a port-forward to a Pod's port.
	forward func(pod string, port int32) (net.Conn, error)

	server *http.Server
	ln     *trackingListener
	proxy  *kubeProxy
	cancel context.CancelFunc
	done   chan struct{}
}

// startKubelet registers spec's Node with the guest API server at
// nodeConfig (the node's credentials), starts its heartbeat, and serves
// the kubelet API with serving (a certificate of the cluster CA for the
// node's address) to clients with certificates of clientCAs.
func startKubelet(ctx context.Context, log logr.Logger, spec nodeSpec, nodeConfig *rest.Config, serving *certificate, clientCA keyPair,
	forward func(pod string, port int32) (net.Conn, error)) (_ *kubelet, reterr error) {
	cs, err := kubernetes.NewForConfig(nodeConfig)
	if err != nil {
		return nil, fmt.Errorf("failed to build the kubelet client of %s: %w", spec.name, err)
	}
	k := &kubelet{spec: spec, log: log, client: cs, forward: forward, done: make(chan struct{})}
	defer func() {
		if reterr != nil {
			k.stop()
		}
	}()
	ln, err := net.Listen("tcp", net.JoinHostPort(spec.ip, strconv.Itoa(KubeletPort)))
	if err != nil {
		close(k.done)
		return nil, fmt.Errorf("failed to listen for the kubelet API of %s: %w", spec.name, err)
	}
	k.ln = newTrackingListener(ln)
	k.server = &http.Server{
		Handler:           k.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          stdLogger(log),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{*serving.tls},
			ClientCAs:    pool(clientCA),
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS12,
			// Port-forwards upgrade the connection, which HTTP/2 cannot carry.
			NextProtos: []string{"http/1.1"},
		},
	}
	go func() {
		if err := k.server.ServeTLS(k.ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "Kubelet API stopped")
		}
	}()
	node, err := k.register(ctx)
	if err != nil {
		close(k.done)
		return nil, err
	}
	if err := k.renewLease(ctx, node); err != nil {
		close(k.done)
		return nil, err
	}
	hbCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	k.cancel = cancel
	go k.heartbeat(hbCtx, node)
	if k.proxy, err = startKubeProxy(log.WithName("kube-proxy"), nodeConfig, spec.name, spec.ip); err != nil {
		return nil, err
	}
	return k, nil
}

// stop stops serving and heartbeating, as a powered-off node does.
func (k *kubelet) stop() {
	if k.cancel != nil {
		k.cancel()
		<-k.done
	}
	if k.proxy != nil {
		k.proxy.Stop()
	}
	if k.server != nil {
		_ = k.server.Close()
		k.ln.closeAll()
	}
}

// newNode is the Node a kubelet registers: Ready, with its address,
// version, capacity, the well-known labels a kubelet may set
// on itself and kubeadm's labels and taints of the pool (the role label and taint are kubeadm's, markControlPlane).
func newNode(spec nodeSpec) *corev1.Node {
	now := metav1.Now()
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, message string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: message, LastTransitionTime: now, LastHeartbeatTime: now}
	}
	labels := maps.Clone(spec.labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, map[string]string{
		corev1.LabelHostname: spec.name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
		"beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
	})
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: spec.name, Labels: labels},
		// The cloud provider sets the providerID (initializeNode).
		Spec: corev1.NodeSpec{Taints: slices.Clone(spec.taints)},
		Status: corev1.NodeStatus{
			Capacity:    spec.capacity,
			Allocatable: spec.capacity,
			NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion: spec.kubeletVersion, KubeProxyVersion: spec.kubeletVersion,
				OperatingSystem: "linux", Architecture: "amd64", OSImage: "VMware Photon OS/Linux",
				KernelVersion: "4.19.256-4.ph3-esx", ContainerRuntimeVersion: "containerd://1.6.18",
				SystemUUID: spec.biosUUID, MachineID: strings.ReplaceAll(spec.biosUUID, "-", ""), BootID: spec.biosUUID,
			},
			Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: spec.ip}, {Type: corev1.NodeHostName, Address: spec.name}},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: KubeletPort}},
			Conditions: []corev1.NodeCondition{
				cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
				cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
				cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
				cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
			},
		},
	}
}

// register creates the Node or, for a node that registered before (a
// VM powered on again), brings its status back.
func (k *kubelet) register(ctx context.Context) (*corev1.Node, error) {
	want := newNode(k.spec)
	node, err := k.client.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{})
	if err == nil {
		return node, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("failed to register Node %s: %w", k.spec.name, err)
	}
	node, err = k.client.CoreV1().Nodes().Get(ctx, k.spec.name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("failed to get Node %s: %w", k.spec.name, err)
	}
	node.Status = want.Status
	if node, err = k.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return nil, fmt.Errorf("failed to update the status of Node %s: %w", k.spec.name, err)
	}
	return node, nil
}

// heartbeat renews the node's Lease until ctx ends.
func (k *kubelet) heartbeat(ctx context.Context, node *corev1.Node) {
	defer close(k.done)
	t := time.NewTicker(leaseRenewInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.renewLease(ctx, node); err != nil && ctx.Err() == nil {
				k.log.V(2).Info("Failed to renew the node's Lease", "err", err.Error())
			}
		}
	}
}

func (k *kubelet) renewLease(ctx context.Context, node *corev1.Node) error {
	leases := k.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, k.spec.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: k.spec.name, Namespace: corev1.NamespaceNodeLease, OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID,
			}}},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: ptr.To(k.spec.name), LeaseDurationSeconds: ptr.To(int32(leaseDuration.Seconds())), RenewTime: &now,
			},
		}
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.RenewTime = &now
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// handler is the part of the kubelet API the simulation answers:
// port-forwards, health, and a clear refusal for what needs containers.
func (k *kubelet) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/portForward/{namespace}/{pod}", k.servePortForward)
	mux.HandleFunc("/portForward/{namespace}/{pod}/{uid}", k.servePortForward)
	mux.HandleFunc("/containerLogs/{namespace}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintf(w, "%s is simulated: its containers write no logs\n", k.spec.name)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, fmt.Sprintf("%s is a simulated node: %s is not served (containers do not run)", k.spec.name, r.URL.Path), http.StatusNotImplemented)
	})
	return mux
}

func (k *kubelet) servePortForward(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("namespace") != metav1.NamespaceSystem {
		http.Error(w, "pod does not exist", http.StatusNotFound)
		return
	}
	opts := &portforward.V4Options{}
	portforward.ServePortForward(w, r, k, r.PathValue("pod"), r.PathValue("uid"), opts,
		streamIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
}

// PortForward copies stream to and from port of pod, as the container
// runtime does for the kubelet.
func (k *kubelet) PortForward(_ context.Context, pod, _ string, port int32, stream io.ReadWriteCloser) error {
	conn, err := k.forward(pod, port)
	if err != nil {
		return fmt.Errorf("failed to forward port %d of %s: %w", port, pod, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(conn, stream)
		closeWrite(conn)
	}()
	_, _ = io.Copy(stream, conn)
	_ = conn.Close()
	wg.Wait()
	return nil
}

// closeWrite half-closes c where it can, else closes it.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}
