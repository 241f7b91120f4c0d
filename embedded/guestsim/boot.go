package guestsim

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/blang/semver/v4"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/bootstrap/kubeadm/pkg/types/upstream"
	"sigs.k8s.io/cluster-api/util/secret"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/internal/tcpproxy"
	"github.com/open-supervisor/supervisor/internal/tkrname"
)

// ProviderIDPrefix starts the providerID of every guest Node; the rest is
// the VM's BIOS UUID, as vSphere's cloud provider sets it.
const ProviderIDPrefix = "vsphere://"

// bootContext is what a VM's boot reads from the supervisor.
type bootContext struct {
	machine *clusterv1.Machine
	// kubeadmConfig is the Machine's bootstrap configuration (empty when
	// it names none).
	kubeadmConfig *bootstrapv1.KubeadmConfig
	cluster       *clusterv1.Cluster
	endpoint      string
	version       string
	capacity      corev1.ResourceList
}

// boot brings up what cloud-init, kubeadm init or join and the kubelet
// would on VM g at address ip: on a control plane the API server (with the
// first one), the endpoint on <ip>:6443 and the etcd member; on every node
// the kubelet and its Node; on a control plane the static Pods and
// kubeadm's objects. Each step is idempotent, so a failed boot is retried
// as a whole. On a booted control plane it only keeps the API server's
// certificate valid for the endpoint. c.mu held.
func (s *Simulator) boot(ctx context.Context, c *guestCluster, g *guestVM, vm *vmopv1.VirtualMachine, ip string) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	bc, waitFor, err := s.bootContext(ctx, c, vm)
	if err != nil || waitFor != "" {
		if waitFor != "" {
			log.V(4).Info("Waiting before the guest can boot", "for", waitFor)
		}
		return ctrl.Result{RequeueAfter: waitPoll}, err
	}
	if g.booted {
		if g.controlPlane && c.cp != nil {
			return ctrl.Result{}, c.cp.serve(ctx, serviceCIDR(bc.cluster), s.apiHosts(c, bc.endpoint, ""))
		}
		return ctrl.Result{}, nil
	}
	if !g.controlPlane && c.cp == nil {
		log.V(4).Info("Waiting for a control plane to join")
		return ctrl.Result{RequeueAfter: waitPoll}, nil
	}
	g.ip = ip // from here on there may be something to shut down
	if g.controlPlane {
		if err := s.startControlPlaneNode(ctx, c, g, bc); err != nil {
			return ctrl.Result{}, err
		}
	}
	labels, taints := nodeRegistration(bc.kubeadmConfig)
	spec := nodeSpec{
		name: vm.Name, ip: ip, biosUUID: vm.Status.BiosUUID,
		kubeletVersion: bc.version, controlPlane: g.controlPlane, capacity: bc.capacity, labels: labels, taints: taints,
	}
	if err := s.startKubelet(ctx, c, g, spec); err != nil {
		return ctrl.Result{}, err
	}
	if err := markReady(ctx, c.cp, vm.Name); err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to lift the not-ready taint of Node %s: %w", vm.Name, err)
	}
	if g.controlPlane {
		if err := s.initControlPlane(ctx, c, g, bc); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := initializeNode(ctx, c.cp, vm.Name, ProviderIDPrefix+vm.Status.BiosUUID); err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to initialize Node %s: %w", vm.Name, err)
	}
	g.booted = true
	log.Info("Guest booted", "node", vm.Name, "address", ip, "controlPlane", g.controlPlane, "version", bc.version)
	return ctrl.Result{}, nil
}

// bootContext reads the VM's Machine, its Cluster and its class; waitFor
// names what is missing yet.
func (s *Simulator) bootContext(ctx context.Context, c *guestCluster, vm *vmopv1.VirtualMachine) (bootContext, string, error) {
	bc := bootContext{machine: &clusterv1.Machine{}, cluster: &clusterv1.Cluster{}}
	if err := s.client.Get(ctx, client.ObjectKeyFromObject(vm), bc.machine); err != nil {
		if apierrors.IsNotFound(err) {
			return bc, "the Machine of the same name", nil
		}
		return bc, "", fmt.Errorf("failed to get the Machine of VirtualMachine %s: %w", vm.Name, err)
	}
	if err := s.client.Get(ctx, c.key, bc.cluster); err != nil {
		if apierrors.IsNotFound(err) {
			return bc, "the Cluster", nil
		}
		return bc, "", fmt.Errorf("failed to get Cluster %s: %w", c.key, err)
	}
	bc.kubeadmConfig = &bootstrapv1.KubeadmConfig{}
	if ref := bc.machine.Spec.Bootstrap.ConfigRef; ref.Name != "" {
		err := s.client.Get(ctx, client.ObjectKey{Namespace: bc.machine.Namespace, Name: ref.Name}, bc.kubeadmConfig)
		if err != nil && !apierrors.IsNotFound(err) {
			return bc, "", fmt.Errorf("failed to get KubeadmConfig %s: %w", ref.Name, err)
		}
	}
	bc.endpoint = bc.cluster.Spec.ControlPlaneEndpoint.Host
	bc.version = kubeletVersion(vm.Spec.ImageName, bc.machine)
	class := &vmopv1.VirtualMachineClass{}
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: vm.Spec.ClassName}, class); err != nil && !apierrors.IsNotFound(err) {
		return bc, "", fmt.Errorf("failed to get VirtualMachineClass %s: %w", vm.Spec.ClassName, err)
	}
	bc.capacity = nodeCapacity(class)
	return bc, "", nil
}

// kubeletVersion is the version of the kubelet in the node image the VM
// was cloned from: the Kubernetes build its item name carries
// (v1.20.7+vmware.1 for ob-18186591-photon-3-k8s-v1.20.7---vmware.1-tkg.1.7fb9067,
// v1.30.8+vmware.1-fips for ob-24481438-ubuntu-2204-amd64-v1.30.8---vmware.1-fips-vkr.1),
// or the version Cluster API asked for when the image names no release.
func kubeletVersion(imageName string, m *clusterv1.Machine) string {
	img, ok := tkrname.Parse(imageName)
	if !ok {
		return m.Spec.Version
	}
	return img.KubernetesVersion()
}

// nodeCapacity is what the kubelet reports for a VM of class: its CPUs
// and memory, kubelet's default pod limit and the boot disk.
func nodeCapacity(class *vmopv1.VirtualMachineClass) corev1.ResourceList {
	cpus, memory := class.Spec.Hardware.Cpus, class.Spec.Hardware.Memory
	if cpus == 0 {
		cpus = 2
	}
	if memory.IsZero() {
		memory = resource.MustParse("4Gi")
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(cpus, resource.DecimalSI),
		corev1.ResourceMemory:           memory,
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("16Gi"),
	}
}

func serviceCIDR(cluster *clusterv1.Cluster) string {
	if blocks := cluster.Spec.ClusterNetwork.Services.CIDRBlocks; len(blocks) > 0 {
		return blocks[0]
	}
	return defaultServiceCIDR
}

// apiHosts are the names the API server's certificate must hold: the
// control-plane endpoint and every booted control plane's address, plus
// ip (the one booting); c.mu held.
func (s *Simulator) apiHosts(c *guestCluster, endpoint, ip string) []string {
	hosts := c.controlPlaneIPs()
	for _, h := range []string{endpoint, ip} {
		if h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// startControlPlaneNode starts the API server if no control plane runs
// it yet, makes its certificate valid for the VM's address, opens the
// endpoint on <ip>:6443 and joins the etcd member. c.mu held.
func (s *Simulator) startControlPlaneNode(ctx context.Context, c *guestCluster, g *guestVM, bc bootContext) error {
	cidr := serviceCIDR(bc.cluster)
	hosts := s.apiHosts(c, bc.endpoint, g.ip)
	if c.cp == nil {
		cp, err := s.startControlPlane(ctx, c, cidr, hosts)
		if err != nil {
			return err
		}
		c.cp = cp
		ctrl.LoggerFrom(ctx).Info("Guest API server started", "address", cp.addr, "etcdPrefix", cp.prefix)
	} else if err := c.cp.serve(ctx, cidr, hosts); err != nil {
		return err
	}
	if g.endpoint == nil {
		f, err := tcpproxy.Listen(net.JoinHostPort(g.ip, strconv.Itoa(APIServerPort)), c.cp.addr)
		if err != nil {
			return fmt.Errorf("failed to open the API endpoint of %s: %w", g.name, err)
		}
		g.endpoint = f
	}
	if c.etcd == nil {
		etcdCA, err := loadKeyPair(ctx, s.reader, c.key, secret.EtcdCA)
		if err != nil {
			return err
		}
		cert, err := issue(etcdCA, "etcd", nil, "localhost", loopbackHost)
		if err != nil {
			return err
		}
		c.etcd = newEtcdCluster(cert, etcdCA)
	}
	c.etcd.join(g.name, g.ip)
	return nil
}

// startKubelet starts g's kubelet with the node's own credentials. c.mu held.
func (s *Simulator) startKubelet(ctx context.Context, c *guestCluster, g *guestVM, spec nodeSpec) error {
	if g.kubelet != nil {
		return nil
	}
	nodeConfig, err := c.cp.clientConfig("system:node:"+spec.name, []string{"system:nodes"})
	if err != nil {
		return err
	}
	serving, err := issue(c.cp.ca, "system:node:"+spec.name, []string{"system:nodes"}, spec.ip, spec.name)
	if err != nil {
		return err
	}
	log := ctrl.Log.WithName("guestsim").WithName("kubelet").WithValues("guestCluster", c.name, "node", spec.name)
	g.kubelet, err = startKubelet(ctx, log, spec, nodeConfig, serving, c.cp.ca, c.forwarder(spec.name))
	if err != nil {
		return fmt.Errorf("failed to start the kubelet of %s: %w", spec.name, err)
	}
	return nil
}

// forwarder connects port-forwards to node's Pods: its etcd member and its
// API server, the ports KubeadmControlPlane reaches.
func (c *guestCluster) forwarder(node string) func(pod string, port int32) (net.Conn, error) {
	return func(pod string, port int32) (net.Conn, error) {
		c.mu.Lock()
		cp, etcd := c.cp, c.etcd
		c.mu.Unlock()
		switch {
		case pod == staticPodName(componentEtcd, node) && port == 2379 && etcd != nil:
			return etcd.dial(node)
		case pod == staticPodName(componentAPIServer, node) && port == APIServerPort && cp != nil:
			return net.Dial("tcp", cp.addr)
		}
		return nil, fmt.Errorf("pod %s on %s does not listen on port %d", pod, node, port)
	}
}

// initControlPlane does on a control-plane node what kubeadm init or join
// does once the kubelet runs: the static Pods' mirror Pods, the role label
// and taint, and (created once) kubeadm's cluster objects. c.mu held.
func (s *Simulator) initControlPlane(ctx context.Context, c *guestCluster, g *guestVM, bc bootContext) error {
	admin, err := kubernetes.NewForConfig(c.cp.admin)
	if err != nil {
		return fmt.Errorf("failed to build the admin client of guest cluster %s: %w", c.name, err)
	}
	node, err := g.kubelet.client.CoreV1().Nodes().Get(ctx, g.name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("failed to get Node %s: %w", g.name, err)
	}
	for _, component := range staticPodComponents {
		if err := g.kubelet.ensureMirrorPod(ctx, newMirrorPod(component, node, g.ip, bc.version)); err != nil {
			return err
		}
	}
	minor := uint64(0)
	if v, err := semver.ParseTolerant(bc.version); err == nil {
		minor = v.Minor
	}
	labels, taints := controlPlaneMarks(minor)
	if err := markControlPlane(ctx, admin, node.Name, labels, taints); err != nil {
		return err
	}
	clusterConfig, err := s.uploadedClusterConfiguration(ctx, bc)
	if err != nil {
		return err
	}
	clusterInfo, err := clusterInfoKubeconfig(bc.endpoint, bc.cluster.Spec.ControlPlaneEndpoint.Port, c.cp.ca.certPEM)
	if err != nil {
		return err
	}
	cl, err := client.New(c.cp.admin, client.Options{})
	if err != nil {
		return fmt.Errorf("failed to build the admin client of guest cluster %s: %w", c.name, err)
	}
	for _, obj := range kubeadmObjects(bc.machine.Spec.Version, clusterConfig, clusterInfo) {
		if err := cl.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create %T %s in guest cluster %s: %w", obj, client.ObjectKeyFromObject(obj), c.name, err)
		}
	}
	return nil
}

// ensureMirrorPod creates pod as the kubelet's mirror of a static Pod
// and reports it running.
func (k *kubelet) ensureMirrorPod(ctx context.Context, pod *corev1.Pod) error {
	pods := k.client.CoreV1().Pods(pod.Namespace)
	got, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		got, err = pods.Get(ctx, pod.Name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("failed to create the mirror Pod %s: %w", pod.Name, err)
	}
	got.Status = runningStatus(got, k.spec.ip)
	if _, err := pods.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("failed to report the mirror Pod %s running: %w", pod.Name, err)
	}
	return nil
}

// markControlPlane labels and taints a control-plane Node as kubeadm's
// mark-control-plane phase does (a kubelet may not set its own role).
func markControlPlane(ctx context.Context, admin kubernetes.Interface, name string, labels map[string]string, taints []corev1.Taint) error {
	node, err := admin.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("failed to get Node %s: %w", name, err)
	}
	changed := false
	for k, v := range labels {
		if cur, ok := node.Labels[k]; !ok || cur != v {
			node.Labels[k] = v
			changed = true
		}
	}
	for _, t := range taints {
		if !hasTaint(node.Spec.Taints, t) {
			node.Spec.Taints = append(node.Spec.Taints, t)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if _, err := admin.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("failed to mark Node %s as a control plane: %w", name, err)
	}
	return nil
}

func hasTaint(taints []corev1.Taint, t corev1.Taint) bool {
	for _, cur := range taints {
		if cur.Key == t.Key && cur.Effect == t.Effect {
			return true
		}
	}
	return false
}

// uploadedClusterConfiguration is the ClusterConfiguration kubeadm init
// stores in kubeadm-config: the control plane's KubeadmConfig with the
// Cluster's network and version.
func (s *Simulator) uploadedClusterConfiguration(ctx context.Context, bc bootContext) (string, error) {
	cfg := bc.kubeadmConfig.Spec.ClusterConfiguration.DeepCopy()
	version, err := semver.ParseTolerant(bc.machine.Spec.Version)
	if err != nil {
		return "", fmt.Errorf("the Machine's version %q: %w", bc.machine.Spec.Version, err)
	}
	network := bc.cluster.Spec.ClusterNetwork
	data := &upstream.AdditionalData{
		KubernetesVersion: ptr.To(bc.machine.Spec.Version),
		ClusterName:       ptr.To(bc.cluster.Name),
		DNSDomain:         ptr.To("cluster.local"),
		ServiceSubnet:     ptr.To(serviceCIDR(bc.cluster)),
	}
	if network.ServiceDomain != "" {
		data.DNSDomain = ptr.To(network.ServiceDomain)
	}
	if len(network.Pods.CIDRBlocks) > 0 {
		data.PodSubnet = ptr.To(network.Pods.CIDRBlocks[0])
	}
	if bc.endpoint != "" {
		cfg.ControlPlaneEndpoint = net.JoinHostPort(bc.endpoint, strconv.Itoa(int(bc.cluster.Spec.ControlPlaneEndpoint.Port)))
	}
	out, err := clusterConfiguration(cfg, version, data)
	if err != nil {
		return "", fmt.Errorf("failed to encode the ClusterConfiguration: %w", err)
	}
	return out, nil
}

// clusterInfoKubeconfig is kube-public/cluster-info's kubeconfig: the
// endpoint and the CA, for nodes that join.
func clusterInfoKubeconfig(host string, port int32, caPEM []byte) (string, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[""] = &clientcmdapi.Cluster{Server: "https://" + net.JoinHostPort(host, strconv.Itoa(int(port))), CertificateAuthorityData: caPEM}
	data, err := clientcmd.Write(*kc)
	if err != nil {
		return "", fmt.Errorf("failed to encode cluster-info: %w", err)
	}
	return string(data), nil
}

// shutdown stops what runs on g, as powering its VM off does: the
// endpoint, the kubelet (its Node turns NotReady), the etcd member and,
// with the last running control plane, the API server. c.mu held.
func (s *Simulator) shutdown(ctx context.Context, c *guestCluster, g *guestVM) error {
	wasBooted := g.booted || g.kubelet != nil || g.endpoint != nil
	g.stopVM()
	if g.controlPlane && c.etcd != nil {
		c.etcd.stop(g.name)
	}
	g.booted = false
	if c.cp != nil && wasBooted {
		if err := markNotReady(ctx, c.cp, g.name); err != nil {
			ctrl.LoggerFrom(ctx).V(2).Info("Could not mark the Node NotReady", "node", g.name, "err", err.Error())
		}
	}
	if g.controlPlane && c.cp != nil && len(c.controlPlaneIPs()) == 0 {
		if err := c.cp.stop(ctx, false, nil); err != nil {
			return err
		}
		c.cp = nil
		ctrl.LoggerFrom(ctx).Info("Guest API server stopped with the last running control plane")
	}
	if wasBooted {
		ctrl.LoggerFrom(ctx).Info("Guest shut down", "node", g.name)
	}
	g.ip = ""
	return nil
}

// markNotReady does what the node lifecycle controller does once a
// kubelet stops posting status: conditions Unknown, unreachable taints.
func markNotReady(ctx context.Context, cp *controlPlane, name string) error {
	admin, err := kubernetes.NewForConfig(cp.admin)
	if err != nil {
		return err
	}
	node, err := admin.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	now := metav1.Now()
	for i := range node.Status.Conditions {
		cond := &node.Status.Conditions[i]
		cond.Status, cond.Reason, cond.Message = corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status."
		cond.LastTransitionTime = now
	}
	if node, err = admin.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return err
	}
	changed := false
	for _, effect := range []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute} {
		if t := (corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: effect}); !hasTaint(node.Spec.Taints, t) {
			node.Spec.Taints = append(node.Spec.Taints, t)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	_, err = admin.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
	return err
}

// remove forgets a deleted VM: its etcd member and, with the cluster's
// last control-plane VM, the API server and the guest's data. c.mu held.
func (s *Simulator) remove(ctx context.Context, c *guestCluster, g *guestVM) error {
	if err := s.shutdown(ctx, c, g); err != nil {
		return err
	}
	delete(c.vms, g.name)
	if g.controlPlane && c.etcd != nil {
		c.etcd.remove(g.name)
	}
	if c.hasControlPlaneVM() {
		return nil
	}
	if c.etcd != nil {
		c.etcd.close()
		c.etcd = nil
	}
	cp := c.cp
	if cp == nil {
		// Stopped already: only its data is left.
		cp = &controlPlane{dir: s.controlPlaneDir(c), prefix: etcdPrefix(c)}
	}
	c.cp = nil
	if err := cp.stop(ctx, true, s.opts.EtcdServers); err != nil {
		return err
	}
	ctrl.LoggerFrom(ctx).Info("Guest cluster removed with its last control-plane VM", "etcdPrefix", cp.prefix)
	return nil
}
