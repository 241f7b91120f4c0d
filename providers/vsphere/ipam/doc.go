// Package ipam hands out static IPv4 addresses of a WorkloadNetwork to VMs.
// Each address handed out is an IPAddressAllocation object named after the
// network and the address, so the API server's name uniqueness keeps two
// owners (or two supervisors) from ever getting the same address, and a
// restarted supervisor knows every allocation without rebuilding anything.
//
// It owns IPAddressAllocations and nothing else: it must not read or change
// VMs or their objects (the VM service asks it for an address and releases
// it), and it never talks to vCenter.
package ipam
