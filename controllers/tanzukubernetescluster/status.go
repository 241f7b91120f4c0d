package tanzukubernetescluster

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	addonsv1 "sigs.k8s.io/cluster-api/api/addons/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/conditions"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// observed is the state of a cluster's Cluster API objects; a nil pointer
// is an object that does not exist (yet).
type observed struct {
	Cluster      *clusterv1.Cluster
	ControlPlane *controlplanev1.KubeadmControlPlane
	// MachineDeployments by name.
	MachineDeployments map[string]*clusterv1.MachineDeployment
	// Machines of the Cluster, control plane and workers.
	Machines []clusterv1.Machine
	// Binding records what ClusterResourceSets applied to the Cluster.
	Binding *addonsv1.ClusterResourceSetBinding
}

// setStatus writes everything the status says about a cluster that is not
// being deleted: conditions, phase, endpoints, VMs and nodes, addons.
func setStatus(tkc *runv1alpha3.TanzuKubernetesCluster, o *clusterObjects, obs observed, now metav1.Time) {
	s := &tkc.Status
	cp := controlPlaneCondition(o, obs)
	pools := nodePoolsCondition(o, obs, s.Version != "")
	addons := addonsCondition(o, obs)
	ready := runv1alpha3.Condition{Type: runv1alpha3.ReadyCondition, Status: corev1.ConditionTrue}
	for _, c := range []runv1alpha3.Condition{cp, pools, addons} {
		if c.Status != corev1.ConditionTrue {
			ready = runv1alpha3.Condition{Type: runv1alpha3.ReadyCondition, Status: c.Status, Severity: c.Severity, Reason: c.Reason, Message: c.Message}
			break
		}
	}
	for _, c := range []runv1alpha3.Condition{ready, cp, pools, addons,
		{Type: runv1alpha3.TanzuKubernetesReleaseCompatibleCondition, Status: corev1.ConditionTrue}} {
		s.Conditions.Set(c, now)
	}

	switch {
	case ready.Status == corev1.ConditionTrue:
		s.Phase = runv1alpha3.PhaseRunning
		s.Version = o.ControlPlane.Annotations[ReleaseVersionAnnotation]
	case s.Version != "":
		s.Phase = runv1alpha3.PhaseUpdating // it ran before: a scale, an upgrade or a repair
	default:
		s.Phase = runv1alpha3.PhaseCreating
	}
	if obs.Cluster != nil && obs.Cluster.Status.Phase == string(clusterv1.ClusterPhaseFailed) {
		s.Phase = runv1alpha3.PhaseFailed
	}

	s.APIEndpoints = nil
	if obs.Cluster != nil && obs.Cluster.Spec.ControlPlaneEndpoint.IsValid() {
		e := obs.Cluster.Spec.ControlPlaneEndpoint
		s.APIEndpoints = []runv1alpha3.APIEndpoint{{Host: e.Host, Port: int(e.Port)}}
	}
	s.TotalWorkerReplicas = 0
	for _, md := range o.MachineDeployments {
		replicas := md.Spec.Replicas
		if cur := obs.MachineDeployments[md.Name]; replicas == nil && cur != nil {
			replicas = cur.Spec.Replicas
		}
		s.TotalWorkerReplicas += ptr.Deref(replicas, 0)
	}
	s.VMStatus, s.NodeStatus = machineStates(obs.Machines)
	s.Addons = []runv1alpha3.AddonStatus{{Name: o.CNIAddon.Name, Type: runv1alpha3.AddonCNI, Version: o.CNIAddon.Version,
		Conditions: addonConditions(s.Addons, addons, now)}}
}

// setFailed records a problem the user (or the administrator) must fix
// before anything can be made: an unusable release, an unknown CNI.
func setFailed(tkc *runv1alpha3.TanzuKubernetesCluster, err error, now metav1.Time) {
	msg := err.Error()
	for _, c := range []runv1alpha3.Condition{
		{Type: runv1alpha3.ReadyCondition, Status: corev1.ConditionFalse, Severity: runv1alpha3.ConditionSeverityError,
			Reason: runv1alpha3.ProvisioningFailedReason, Message: msg},
		{Type: runv1alpha3.TanzuKubernetesReleaseCompatibleCondition, Status: corev1.ConditionFalse, Severity: runv1alpha3.ConditionSeverityError,
			Reason: runv1alpha3.ProvisioningFailedReason, Message: msg},
	} {
		tkc.Status.Conditions.Set(c, now)
	}
	if tkc.Status.Version != "" {
		tkc.Status.Phase = runv1alpha3.PhaseUpdateFailed
	} else {
		tkc.Status.Phase = runv1alpha3.PhaseFailed
	}
}

func waiting(typ, reason, format string, args ...any) runv1alpha3.Condition {
	return runv1alpha3.Condition{Type: typ, Status: corev1.ConditionFalse, Severity: runv1alpha3.ConditionSeverityInfo,
		Reason: reason, Message: fmt.Sprintf(format, args...)}
}

func controlPlaneCondition(o *clusterObjects, obs observed) runv1alpha3.Condition {
	const typ = runv1alpha3.ControlPlaneReadyCondition
	want := ptr.Deref(o.ControlPlane.Spec.Replicas, 1)
	kcp := obs.ControlPlane
	switch {
	case obs.Cluster == nil:
		return waiting(typ, runv1alpha3.WaitingForClusterInfrastructureReason, "Waiting for Cluster %s to be created", o.Cluster.Name)
	case !ptr.Deref(obs.Cluster.Status.Initialization.InfrastructureProvisioned, false):
		return waiting(typ, runv1alpha3.WaitingForClusterInfrastructureReason,
			"Waiting for VSphereCluster %s to be provisioned: the control plane's load-balanced endpoint (VIP on port 6443) must be served first", o.VSphereCluster.Name)
	case kcp == nil:
		return waiting(typ, runv1alpha3.WaitingForControlPlaneReason, "Waiting for KubeadmControlPlane %s to be created", o.ControlPlane.Name)
	case !ptr.Deref(kcp.Status.Initialization.ControlPlaneInitialized, false):
		return waiting(typ, runv1alpha3.WaitingForControlPlaneInitializedReason,
			"Waiting for the first control-plane node to initialize the cluster (%d of %d control-plane VMs created)", countControlPlane(obs.Machines), want)
	}
	ready := ptr.Deref(kcp.Status.ReadyReplicas, 0)
	upToDate := max(ptr.Deref(kcp.Status.UpToDateReplicas, 0), upToDateMachines(obs.Machines, o.ControlPlane.Annotations[ReleaseVersionAnnotation],
		func(m *clusterv1.Machine) bool { _, ok := m.Labels[clusterv1.MachineControlPlaneLabel]; return ok }))
	if kcp.Status.ObservedGeneration < kcp.Generation || ready != want || upToDate != want || ptr.Deref(kcp.Status.Replicas, 0) != want {
		return waiting(typ, runv1alpha3.WaitingForControlPlaneReason,
			"%d of %d control-plane nodes ready, %d up to date with release %s", ready, want, upToDate, o.ControlPlane.Annotations[ReleaseVersionAnnotation])
	}
	return runv1alpha3.Condition{Type: typ, Status: corev1.ConditionTrue}
}

func nodePoolsCondition(o *clusterObjects, obs observed, ranBefore bool) runv1alpha3.Condition {
	const typ = runv1alpha3.NodePoolsReadyCondition
	var pending []string
	missing := false
	for _, md := range o.MachineDeployments {
		pool := md.Labels[NodePoolLabel]
		cur := obs.MachineDeployments[md.Name]
		if cur == nil {
			missing = true
			pending = append(pending, fmt.Sprintf("pool %s: MachineDeployment %s not created yet", pool, md.Name))
			continue
		}
		want := ptr.Deref(cur.Spec.Replicas, 0)
		ready := ptr.Deref(cur.Status.ReadyReplicas, 0)
		upToDate := max(ptr.Deref(cur.Status.UpToDateReplicas, 0), upToDateMachines(obs.Machines, md.Annotations[ReleaseVersionAnnotation],
			func(m *clusterv1.Machine) bool { return m.Labels[clusterv1.MachineDeploymentNameLabel] == md.Name }))
		if cur.Status.ObservedGeneration < cur.Generation || ready != want || upToDate != want || ptr.Deref(cur.Status.Replicas, 0) != want {
			pending = append(pending, fmt.Sprintf("pool %s: %d of %d nodes ready, %d up to date with release %s",
				pool, ready, want, upToDate, md.Annotations[ReleaseVersionAnnotation]))
		}
	}
	if len(pending) == 0 {
		return runv1alpha3.Condition{Type: typ, Status: corev1.ConditionTrue}
	}
	reason := runv1alpha3.WaitingForNodesHealthyReason
	switch {
	case missing:
		reason = runv1alpha3.NodePoolsUnknownReason
	case ranBefore:
		reason = runv1alpha3.NodePoolsUpdatingReason
	}
	msg := strings.Join(pending, "; ")
	if obs.ControlPlane == nil || !ptr.Deref(obs.ControlPlane.Status.Initialization.ControlPlaneInitialized, false) {
		msg += " (workers join once the control plane is initialized)"
	}
	return waiting(typ, reason, "%s", msg)
}

func addonsCondition(o *clusterObjects, obs observed) runv1alpha3.Condition {
	const typ = runv1alpha3.AddonsReadyCondition
	if obs.Binding != nil {
		for _, b := range obs.Binding.Spec.Bindings {
			if b.ClusterResourceSetName != o.CNI.Name {
				continue
			}
			for _, res := range b.Resources {
				if res.Name != o.CNIConfigMap.Name {
					continue
				}
				if ptr.Deref(res.Applied, false) {
					return runv1alpha3.Condition{Type: typ, Status: corev1.ConditionTrue}
				}
				return runv1alpha3.Condition{Type: typ, Status: corev1.ConditionFalse, Severity: runv1alpha3.ConditionSeverityWarning,
					Reason: runv1alpha3.AddonsReconciliationFailedReason,
					Message: fmt.Sprintf("Applying %s %s in the guest cluster failed; Cluster API retries (see ClusterResourceSet %s)",
						o.CNIAddon.Name, o.CNIAddon.Version, o.CNI.Name)}
			}
		}
	}
	return waiting(typ, runv1alpha3.WaitingForControlPlaneReason,
		"Waiting for the guest cluster's API server to apply the CNI %s %s", o.CNIAddon.Name, o.CNIAddon.Version)
}

// addonConditions is the Provisioned condition of the CNI addon: pending
// (Unknown, no reason) until applied or failed.
func addonConditions(prev []runv1alpha3.AddonStatus, addons runv1alpha3.Condition, now metav1.Time) runv1alpha3.Conditions {
	var conds runv1alpha3.Conditions
	for _, a := range prev {
		if a.Type == runv1alpha3.AddonCNI {
			conds = a.Conditions
		}
	}
	c := runv1alpha3.Condition{Type: runv1alpha3.ProvisionedCondition, Status: addons.Status}
	switch addons.Status {
	case corev1.ConditionFalse:
		if addons.Reason == runv1alpha3.AddonsReconciliationFailedReason {
			c.Severity, c.Reason, c.Message = addons.Severity, addons.Reason, addons.Message
		} else {
			c.Status = corev1.ConditionUnknown
		}
	}
	conds.Set(c, now)
	return conds
}

func countControlPlane(machines []clusterv1.Machine) int {
	n := 0
	for _, m := range machines {
		if _, ok := m.Labels[clusterv1.MachineControlPlaneLabel]; ok {
			n++
		}
	}
	return n
}

// machineStates gives each Machine's VM a state by VM name (the
// VSphereMachine's, which names the VM) and each node a readiness by node
// name (the Machine's name until the node registers).
func machineStates(machines []clusterv1.Machine) (map[string]runv1alpha3.VirtualMachineState, map[string]runv1alpha3.NodeStatus) {
	if len(machines) == 0 {
		return nil, nil
	}
	vms := make(map[string]runv1alpha3.VirtualMachineState, len(machines))
	nodes := make(map[string]runv1alpha3.NodeStatus, len(machines))
	for _, m := range machines {
		vm := m.Spec.InfrastructureRef.Name
		if vm == "" {
			vm = m.Name
		}
		var state runv1alpha3.VirtualMachineState
		switch {
		case !m.DeletionTimestamp.IsZero():
			state = runv1alpha3.VirtualMachineStateDeleting
		case m.Status.Phase == string(clusterv1.MachinePhaseFailed):
			state = runv1alpha3.VirtualMachineStateError
		case m.Status.NodeRef.IsDefined():
			state = runv1alpha3.VirtualMachineStateReady
		case ptr.Deref(m.Status.Initialization.InfrastructureProvisioned, false):
			state = runv1alpha3.VirtualMachineStatePoweredOn
		default:
			state = runv1alpha3.VirtualMachineStatePending
		}
		vms[vm] = state

		if !m.Status.NodeRef.IsDefined() {
			nodes[m.Name] = runv1alpha3.NodeStatusPending
			continue
		}
		node := runv1alpha3.NodeStatusUnknown
		for _, c := range m.Status.Conditions {
			if c.Type == clusterv1.MachineNodeReadyCondition {
				switch c.Status {
				case metav1.ConditionTrue:
					node = runv1alpha3.NodeStatusReady
				case metav1.ConditionFalse:
					node = runv1alpha3.NodeStatusNotReady
				}
			}
		}
		nodes[m.Status.NodeRef.Name] = node
	}
	return vms, nodes
}

// setDeleting writes what the status says of a cluster being deleted: the
// Deleting phase, and the state of the VMs and nodes of the machines still
// there (each one deleting), until none is left.
func setDeleting(tkc *runv1alpha3.TanzuKubernetesCluster, machines []clusterv1.Machine) {
	tkc.Status.Phase = runv1alpha3.PhaseDeleting
	tkc.Status.VMStatus, tkc.Status.NodeStatus = machineStates(machines)
}

// kubeletMismatchPrefix starts Cluster API's MachineUpToDate message when a
// Machine's spec is up to date and only its Node's kubelet version differs.
const kubeletMismatchPrefix = "* Node.status.nodeInfo.kubeletVersion "

// upToDateMachines counts the Machines of one pool (belongs) that run
// release: up to date for Cluster API, or differing from it only in that
// their kubelet reports the release's own version where Cluster API was
// told v1.22.0 (releases older than it supports, ClusterAPIVersion).
func upToDateMachines(machines []clusterv1.Machine, releaseVersion string, belongs func(*clusterv1.Machine) bool) int32 {
	nodeVersion := release{Version: releaseVersion}.NodeVersion()
	n := int32(0)
	for i := range machines {
		m := &machines[i]
		if !belongs(m) || !m.DeletionTimestamp.IsZero() {
			continue
		}
		c := conditions.Get(m, clusterv1.MachineUpToDateCondition)
		switch {
		case c == nil:
		case c.Status == metav1.ConditionTrue:
			n++
		case strings.HasPrefix(c.Message, kubeletMismatchPrefix) && m.Status.NodeInfo != nil &&
			nodeVersion != "" && m.Status.NodeInfo.KubeletVersion == nodeVersion:
			n++
		}
	}
	return n
}
