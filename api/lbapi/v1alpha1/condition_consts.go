package v1alpha1

// Conditions of a LoadBalancer.
const (
	// ConditionDataPlaneAPIReachable says whether a Data Plane API server of
	// the load balancer answers (and accepts the credentials).
	ConditionDataPlaneAPIReachable = "DataPlaneAPIReachable"

	// ReasonReachable: a Data Plane API server answered; the message names it.
	ReasonReachable = "Reachable"
	// ReasonUnreachable: no Data Plane API server answered, or the load
	// balancer cannot be used as specified; the message says why.
	ReasonUnreachable = "Unreachable"
)

// Conditions lbapi writes on the VirtualMachineServices and Services of
// type LoadBalancer it serves. Other controllers read them (the Cluster API
// infrastructure provider waits on a control-plane endpoint's), so they are
// constants here rather than strings in lbapi.
const (
	// ConditionLoadBalancerReady says whether the Service's VIP serves:
	// True once HAProxy loaded its proxies and the VIP accepts connections.
	ConditionLoadBalancerReady = "LoadBalancerReady"

	// ReasonVIPServing: the VIP in status.loadBalancer.ingress accepts connections.
	ReasonVIPServing = "VIPServing"
	// ReasonVIPUnavailable: no VIP can be given (the one asked for is out of
	// the ranges or held by another Service, or every VIP is in use).
	ReasonVIPUnavailable = "VIPUnavailable"
	// ReasonConfigRejected: HAProxy refused the Service's configuration; the
	// message carries HAProxy's reason. It is retried after a while.
	ReasonConfigRejected = "ConfigRejected"
	// ReasonVIPNotAnswering: HAProxy accepted the configuration but the VIP
	// does not accept connections yet.
	ReasonVIPNotAnswering = "VIPNotAnswering"
)
