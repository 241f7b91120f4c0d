// Package ipam hands out static IPv4 addresses of a WorkloadNetwork to VMs.
// Each address handed out is an IPAddressAllocation object named after the
// network and the address, so the API server's name uniqueness keeps two
// owners (or two supervisors) from ever getting the same address, and a
// restarted supervisor knows every allocation without rebuilding anything.
//
// It exports supervisor_workload_ip_addresses{network,range,state} (in_use,
// free) on the manager's /metrics, counted on every scrape from the
// WorkloadNetworks and their allocations, so the figures stay right as VMs
// come and go, across restarts and beside other supervisors.
//
// It owns IPAddressAllocations and nothing else: it must not read or change
// VMs or their objects (the VM service asks it for an address and releases
// it), and it never talks to vCenter.
package ipam
