package v1beta2

import clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

// Labels the provider puts on the VirtualMachines of a cluster (CAPV's), so
// the control-plane VirtualMachineService can select them.
const (
	ClusterNameLabel = "capv.vmware.com/cluster.name"
	ClusterRoleLabel = "capv.vmware.com/cluster.role"
	RoleControlPlane = "controlplane"
	RoleNode         = "node"
)

// VSphereMachine conditions, named as CAPV names them (its govmomi
// VSphereMachine shares them with the supervisor one).
const (
	// VSphereMachineReadyCondition mirrors VirtualMachineProvisioned.
	VSphereMachineReadyCondition = clusterv1.ReadyCondition
	// VSphereMachineVirtualMachineProvisionedCondition: the machine's VM is
	// powered on with an IP and a BIOS UUID.
	VSphereMachineVirtualMachineProvisionedCondition = "VirtualMachineProvisioned"
	// VSphereMachineVirtualMachineProvisionedReason: the VM is provisioned;
	// the message is its IP.
	VSphereMachineVirtualMachineProvisionedReason = clusterv1.ProvisionedReason
	// VSphereMachineWaitingForClusterInfrastructureReason: the cluster has no
	// control-plane endpoint yet.
	VSphereMachineWaitingForClusterInfrastructureReason = "WaitingForClusterInfrastructure"
	// VSphereMachineWaitingForBootstrapDataReason: the Machine's bootstrap
	// data is not there yet.
	VSphereMachineWaitingForBootstrapDataReason = "WaitingForBootstrapData"
	// VSphereMachineWaitingForVirtualMachineReason: the VirtualMachine is not
	// cloned, powered on or addressed yet; the message says why.
	VSphereMachineWaitingForVirtualMachineReason = "WaitingForVirtualMachine"
	// VSphereMachineDeletingReason: the VirtualMachine is being destroyed.
	VSphereMachineDeletingReason = clusterv1.DeletingReason

	// VMProvisionedV1Beta1Condition is the legacy (v1beta1) condition CAPV
	// sets beside VirtualMachineProvisioned.
	VMProvisionedV1Beta1Condition clusterv1.ConditionType = "VMProvisioned"
)
