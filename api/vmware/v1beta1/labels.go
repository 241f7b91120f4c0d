package v1beta1

import "github.com/open-supervisor/supervisor/api/vmware/v1beta2"

// Labels the provider puts on the VirtualMachines of a cluster; the same as
// v1beta2's, for readers that still import this version.
const (
	ClusterNameLabel = v1beta2.ClusterNameLabel
	ClusterRoleLabel = v1beta2.ClusterRoleLabel
	RoleControlPlane = v1beta2.RoleControlPlane
	RoleNode         = v1beta2.RoleNode
)
