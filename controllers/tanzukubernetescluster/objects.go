package tanzukubernetescluster

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	addonsv1 "sigs.k8s.io/cluster-api/api/addons/v1beta2"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	"github.com/open-supervisor/supervisor/api/run/rules"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
	"github.com/open-supervisor/supervisor/templates"
)

// A TanzuKubernetesCluster becomes explicit Cluster API objects, not a
// Cluster with a topology on a ClusterClass. The mapping is small (one
// control plane, one MachineDeployment per node pool) and explicit objects
// keep every rule in this file: templates are created once under names
// derived from their spec (a changed class, image or release gives a new
// name, which rolls the machines, and infrastructure templates stay
// immutable as Cluster API requires), and the controller needs neither the
// topology controller's server-side-apply dry runs nor ClusterClass
// variables and patches to express v1alpha1's and v1alpha3's fields.

// Labels and annotations on the Cluster API objects of a cluster.
const (
	// ClusterLabel names the TanzuKubernetesCluster an object belongs to;
	// the CNI's ClusterResourceSet selects the Cluster by it.
	ClusterLabel = "run.tanzu.vmware.com/cluster-name"
	// NodePoolLabel names the node pool of a MachineDeployment, its
	// templates and Machines.
	NodePoolLabel = "run.tanzu.vmware.com/node-pool"
	// ReleaseLabel names the TanzuKubernetesRelease of a control plane or
	// pool (vSphere's label).
	ReleaseLabel = "run.tanzu.vmware.com/tkr"
	// ReleaseVersionAnnotation holds the full release version
	// (v1.18.20+vmware.1-tkg.1); Cluster API is given the Kubernetes one.
	// It is on the control plane and each MachineDeployment.
	ReleaseVersionAnnotation = "run.tanzu.vmware.com/tkr-version"
	// NodeVersionAnnotation on Machines is the Kubernetes version their
	// nodes run, when Cluster API is told another (see ClusterAPIVersion).
	NodeVersionAnnotation = "run.tanzu.vmware.com/kubernetes-version"
)

// controlPlanePool names the control plane where a pool name is expected.
const controlPlanePool = "control-plane"

// clusterObjects are the Cluster API objects of one TanzuKubernetesCluster,
// all in its namespace.
type clusterObjects struct {
	Cluster            *clusterv1.Cluster
	VSphereCluster     *vmwarev1.VSphereCluster
	ControlPlane       *controlplanev1.KubeadmControlPlane
	MachineDeployments []*clusterv1.MachineDeployment
	// MachineTemplates and ConfigTemplates are immutable, named after a
	// hash of their spec.
	MachineTemplates []*vmwarev1.VSphereMachineTemplate
	ConfigTemplates  []*bootstrapv1.KubeadmConfigTemplate
	// CNIConfigMap holds the rendered CNI manifest the ClusterResourceSet
	// CNI applies in the guest cluster.
	CNIConfigMap *corev1.ConfigMap
	CNI          *addonsv1.ClusterResourceSet
	// CNIAddon is the shipped CNI.
	CNIAddon templates.CNI
}

// releaseOfPool returns the release a pool (or the control plane) refers to.
func releaseOfPool(t runv1alpha3.TKRReference, releases map[string]release) (release, error) {
	if t.Reference == nil || t.Reference.Name == "" {
		return release{}, errReleaseUnusable{"no TanzuKubernetesRelease is set (spec.topology.*.tkr.reference)"}
	}
	r, ok := releases[t.Reference.Name]
	if !ok {
		return release{}, errReleaseUnusable{fmt.Sprintf("TanzuKubernetesRelease %s does not exist", t.Reference.Name)}
	}
	return r, nil
}

// desiredObjects builds the Cluster API objects of tkc from its spec and
// the releases it refers to (by name).
func desiredObjects(tkc *runv1alpha3.TanzuKubernetesCluster, releases map[string]release) (*clusterObjects, error) {
	net, err := networkOf(tkc)
	if err != nil {
		return nil, err
	}
	cni, ok := templates.FindCNI(net.cni)
	if !ok {
		return nil, errReleaseUnusable{fmt.Sprintf("CNI %q is not shipped (use one of %s)", net.cni, strings.Join(rules.SupportedCNIs, ", "))}
	}
	cp := tkc.Spec.Topology.ControlPlane
	cpRelease, err := releaseOfPool(cp.TKR, releases)
	if err != nil {
		return nil, err
	}
	o := &clusterObjects{CNIAddon: cni}
	setup := nodeSetupOf(tkc, net)
	name := tkc.Name
	o.Cluster = &clusterv1.Cluster{
		ObjectMeta: childMeta(tkc, name, nil),
		Spec: clusterv1.ClusterSpec{
			ClusterNetwork: clusterv1.ClusterNetwork{
				Pods:          clusterv1.NetworkRanges{CIDRBlocks: net.pods},
				Services:      clusterv1.NetworkRanges{CIDRBlocks: net.services},
				ServiceDomain: net.serviceDomain,
			},
			InfrastructureRef: clusterv1.ContractVersionedObjectReference{
				APIGroup: vmwarev1.GroupVersion.Group, Kind: "VSphereCluster", Name: name},
			ControlPlaneRef: clusterv1.ContractVersionedObjectReference{
				APIGroup: controlplanev1.GroupVersion.Group, Kind: "KubeadmControlPlane", Name: controlPlaneName(tkc)},
		},
	}
	o.VSphereCluster = &vmwarev1.VSphereCluster{ObjectMeta: childMeta(tkc, name, nil)}

	cpTemplate := machineTemplate(tkc, controlPlanePool, cp, cpRelease)
	o.MachineTemplates = append(o.MachineTemplates, cpTemplate)
	o.ControlPlane = &controlplanev1.KubeadmControlPlane{
		ObjectMeta: childMeta(tkc, controlPlaneName(tkc), releaseLabels(cpRelease)),
		Spec: controlplanev1.KubeadmControlPlaneSpec{
			Replicas: ptr.To(ptr.Deref(cp.Replicas, 1)),
			Version:  cpRelease.ClusterAPIVersion(),
			MachineTemplate: controlplanev1.KubeadmControlPlaneMachineTemplate{
				ObjectMeta: clusterv1.ObjectMeta{Annotations: machineVersionAnnotations(cpRelease)},
				Spec: controlplanev1.KubeadmControlPlaneMachineTemplateSpec{
					InfrastructureRef: machineTemplateRef(cpTemplate),
					Deletion:          controlplanev1.KubeadmControlPlaneMachineTemplateDeletionSpec{NodeDrainTimeoutSeconds: seconds(cp.NodeDrainTimeout)},
				},
			},
			KubeadmConfigSpec: bootstrapv1.KubeadmConfigSpec{
				InitConfiguration: bootstrapv1.InitConfiguration{NodeRegistration: nodeRegistration(nil, nil)},
				JoinConfiguration: bootstrapv1.JoinConfiguration{NodeRegistration: nodeRegistration(nil, nil)},
			},
		},
	}
	setup.apply(&o.ControlPlane.Spec.KubeadmConfigSpec)
	addVolumes(&o.ControlPlane.Spec.KubeadmConfigSpec, cp.Volumes)
	o.ControlPlane.Annotations = map[string]string{ReleaseVersionAnnotation: cpRelease.Version}

	for _, pool := range tkc.Spec.Topology.NodePools {
		r := cpRelease
		if pool.TKR.Reference != nil {
			if r, err = releaseOfPool(pool.TKR, releases); err != nil {
				return nil, err
			}
		}
		infra := machineTemplate(tkc, pool.Name, pool.TopologySettings, r)
		bootstrap := configTemplate(tkc, pool, setup)
		o.MachineTemplates = append(o.MachineTemplates, infra)
		o.ConfigTemplates = append(o.ConfigTemplates, bootstrap)
		o.MachineDeployments = append(o.MachineDeployments, machineDeployment(tkc, pool, r, infra, bootstrap))
	}

	manifest, err := cni.Manifest(templates.CNIValues{PodCIDRs: net.pods, ServiceCIDRs: net.services})
	if err != nil {
		return nil, err
	}
	o.CNIConfigMap = &corev1.ConfigMap{
		ObjectMeta: childMeta(tkc, name+"-"+cni.Name, nil),
		Data:       map[string]string{cni.Name + ".yaml": string(manifest)},
	}
	o.CNI = &addonsv1.ClusterResourceSet{
		ObjectMeta: childMeta(tkc, name+"-"+cni.Name, nil),
		Spec: addonsv1.ClusterResourceSetSpec{
			ClusterSelector: metav1.LabelSelector{MatchLabels: map[string]string{ClusterLabel: name}},
			Resources:       []addonsv1.ResourceRef{{Name: o.CNIConfigMap.Name, Kind: string(addonsv1.ConfigMapClusterResourceSetResourceKind)}},
			Strategy:        string(addonsv1.ClusterResourceSetStrategyReconcile),
		},
	}
	return o, nil
}

func controlPlaneName(tkc *runv1alpha3.TanzuKubernetesCluster) string {
	return tkc.Name + "-" + controlPlanePool
}

func machineDeploymentName(tkc *runv1alpha3.TanzuKubernetesCluster, pool string) string {
	return tkc.Name + "-" + pool
}

// network is a cluster's network settings after defaulting, with CIDR
// blocks as networks (no host bits: kubeadm and CNIs want them so).
type network struct {
	pods, services []string
	serviceDomain  string
	cni            string
}

func networkOf(tkc *runv1alpha3.TanzuKubernetesCluster) (network, error) {
	out := network{pods: []string{rules.DefaultPodCIDR}, services: []string{rules.DefaultServiceCIDR},
		serviceDomain: rules.DefaultServiceDomain, cni: rules.CNIAntrea}
	var n runv1alpha3.Network
	if s := tkc.Spec.Settings; s != nil && s.Network != nil {
		n = *s.Network
	}
	if n.Pods != nil && len(n.Pods.CIDRBlocks) > 0 {
		out.pods = n.Pods.CIDRBlocks
	}
	if n.Services != nil && len(n.Services.CIDRBlocks) > 0 {
		out.services = n.Services.CIDRBlocks
	}
	if n.ServiceDomain != "" {
		out.serviceDomain = n.ServiceDomain
	}
	if n.CNI != nil && n.CNI.Name != "" {
		out.cni = n.CNI.Name
	}
	for _, blocks := range []*[]string{&out.pods, &out.services} {
		prefixes, errs := rules.ParseCIDRs(nil, *blocks)
		if len(errs) > 0 {
			return network{}, errReleaseUnusable{errs.ToAggregate().Error()}
		}
		*blocks = nil
		for _, p := range prefixes {
			*blocks = append(*blocks, p.String())
		}
	}
	return out, nil
}

// childMeta is the metadata of a child object: in the cluster's namespace,
// labelled with the cluster (owner references are set when applying).
func childMeta(tkc *runv1alpha3.TanzuKubernetesCluster, name string, extra map[string]string) metav1.ObjectMeta {
	labels := map[string]string{ClusterLabel: tkc.Name, clusterv1.ClusterNameLabel: tkc.Name}
	for k, v := range extra {
		labels[k] = v
	}
	return metav1.ObjectMeta{Namespace: tkc.Namespace, Name: name, Labels: labels}
}

func releaseLabels(r release) map[string]string { return map[string]string{ReleaseLabel: r.Name} }

// machineTemplate is the VSphereMachineTemplate of a pool, named after a
// hash of its spec.
func machineTemplate(tkc *runv1alpha3.TanzuKubernetesCluster, pool string, s runv1alpha3.TopologySettings, r release) *vmwarev1.VSphereMachineTemplate {
	spec := vmwarev1.VSphereMachineTemplateSpec{Template: vmwarev1.VSphereMachineTemplateResource{
		Spec: vmwarev1.VSphereMachineSpec{ImageName: r.Image, ClassName: s.VMClass, StorageClass: s.StorageClass, Volumes: machineVolumes(s)},
	}}
	labels := releaseLabels(r)
	labels[NodePoolLabel] = pool
	return &vmwarev1.VSphereMachineTemplate{
		ObjectMeta: childMeta(tkc, tkc.Name+"-"+pool+"-"+specHash(spec), labels),
		Spec:       spec,
	}
}

func machineTemplateRef(t *vmwarev1.VSphereMachineTemplate) clusterv1.ContractVersionedObjectReference {
	return clusterv1.ContractVersionedObjectReference{APIGroup: vmwarev1.GroupVersion.Group, Kind: "VSphereMachineTemplate", Name: t.Name}
}

// configTemplate is the KubeadmConfigTemplate of a pool: its labels and
// taints go into the nodes' kubeadm join configuration, the cluster's node
// setup and the pool's volume mounts happen before kubeadm.
func configTemplate(tkc *runv1alpha3.TanzuKubernetesCluster, pool runv1alpha3.NodePool, setup nodeSetup) *bootstrapv1.KubeadmConfigTemplate {
	spec := bootstrapv1.KubeadmConfigTemplateSpec{Template: bootstrapv1.KubeadmConfigTemplateResource{
		Spec: bootstrapv1.KubeadmConfigSpec{
			JoinConfiguration: bootstrapv1.JoinConfiguration{NodeRegistration: nodeRegistration(pool.Labels, pool.Taints)},
		},
	}}
	setup.apply(&spec.Template.Spec)
	addVolumes(&spec.Template.Spec, pool.Volumes)
	return &bootstrapv1.KubeadmConfigTemplate{
		ObjectMeta: childMeta(tkc, tkc.Name+"-"+pool.Name+"-"+specHash(spec), map[string]string{NodePoolLabel: pool.Name}),
		Spec:       spec,
	}
}

// nodeRegistration names nodes after their VM (as cloud-init sees it) and
// leaves node addresses to the cloud provider, like CAPV's templates.
func nodeRegistration(labels map[string]string, taints []corev1.Taint) bootstrapv1.NodeRegistrationOptions {
	n := bootstrapv1.NodeRegistrationOptions{
		Name:             "{{ ds.meta_data.hostname }}",
		KubeletExtraArgs: []bootstrapv1.Arg{{Name: "cloud-provider", Value: ptr.To("external")}},
	}
	if len(labels) > 0 {
		pairs := make([]string, 0, len(labels))
		for k, v := range labels {
			pairs = append(pairs, k+"="+v)
		}
		slices.Sort(pairs)
		n.KubeletExtraArgs = append(n.KubeletExtraArgs, bootstrapv1.Arg{Name: "node-labels", Value: ptr.To(strings.Join(pairs, ","))})
	}
	if len(taints) > 0 {
		n.Taints = ptr.To(slices.Clone(taints))
	}
	return n
}

func machineDeployment(tkc *runv1alpha3.TanzuKubernetesCluster, pool runv1alpha3.NodePool, r release,
	infra *vmwarev1.VSphereMachineTemplate, bootstrap *bootstrapv1.KubeadmConfigTemplate) *clusterv1.MachineDeployment {
	labels := releaseLabels(r)
	labels[NodePoolLabel] = pool.Name
	md := &clusterv1.MachineDeployment{
		ObjectMeta: childMeta(tkc, machineDeploymentName(tkc, pool.Name), labels),
		Spec: clusterv1.MachineDeploymentSpec{
			ClusterName: tkc.Name,
			// nil leaves the pool to an autoscaler (Cluster API creates one).
			Replicas: pool.Replicas,
			Template: clusterv1.MachineTemplateSpec{
				ObjectMeta: clusterv1.ObjectMeta{Labels: map[string]string{NodePoolLabel: pool.Name},
					Annotations: machineVersionAnnotations(r)},
				Spec: clusterv1.MachineSpec{
					ClusterName: tkc.Name,
					Version:     r.ClusterAPIVersion(),
					Bootstrap: clusterv1.Bootstrap{ConfigRef: clusterv1.ContractVersionedObjectReference{
						APIGroup: bootstrapv1.GroupVersion.Group, Kind: "KubeadmConfigTemplate", Name: bootstrap.Name}},
					InfrastructureRef: machineTemplateRef(infra),
					FailureDomain:     ptr.Deref(pool.FailureDomain, ""),
					Deletion:          clusterv1.MachineDeletionSpec{NodeDrainTimeoutSeconds: seconds(pool.NodeDrainTimeout)},
				},
			},
		},
	}
	md.Annotations = map[string]string{ReleaseVersionAnnotation: r.Version}
	if r.ClusterAPIVersion() != r.NodeVersion() {
		// Cluster API reads the control plane's version from its kubelets
		// (the release's, v1.18.20+vmware.1): it would refuse workers it was
		// told are v1.22.0 as newer than the control plane, and hold them
		// while the control plane looks mid-upgrade from v1.18 to v1.22 for
		// good. The skew is the stand-in's, not the cluster's.
		md.Annotations[clusterv1.MachineSetSkipPreflightChecksAnnotation] = strings.Join([]string{
			string(clusterv1.MachineSetPreflightCheckKubeadmVersionSkew),
			string(clusterv1.MachineSetPreflightCheckKubernetesVersionSkew),
			string(clusterv1.MachineSetPreflightCheckControlPlaneVersionSkew),
			string(clusterv1.MachineSetPreflightCheckControlPlaneIsStable),
		}, ",")
	}
	return md
}

// machineVersionAnnotations are the release's versions every Machine of a
// control plane or pool carries; Cluster API v1.14 copies machine template
// metadata onto the Machines in place, without a rollout (KCP's
// syncMachines; a MachineDeployment's template metadata is left out of its
// rollout comparison).
//
// The full release version (ReleaseVersionAnnotation) is not among them on
// purpose: the simulated kubelets report it (minus "-tkg.N") as their
// version, and Cluster API v1.14 counts a Machine up to date only while its
// Node's kubeletVersion equals spec.version exactly, so no cluster would
// become Ready.
func machineVersionAnnotations(r release) map[string]string {
	return map[string]string{NodeVersionAnnotation: r.KubernetesVersion}
}

func seconds(d *metav1.Duration) *int32 {
	if d == nil {
		return nil
	}
	return ptr.To(int32(d.Seconds()))
}

// specHash is a short stable hash of a template's spec.
func specHash(spec any) string {
	b, err := json.Marshal(spec)
	if err != nil {
		panic(err) // plain API structs always marshal
	}
	h := fnv.New32a()
	_, _ = h.Write(b)
	return fmt.Sprintf("%08x", h.Sum32())
}
