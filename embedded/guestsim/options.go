package guestsim

import (
	"fmt"
	"time"
)

// Default mux port range: Cluster API's, below Linux's ephemeral ports
// (32768+), so an outgoing connection never holds a port the mux wants.
const (
	DefaultMinPort = 20000
	DefaultMaxPort = 29999
)

// APIServerPort is where a control-plane VM serves its guest API server, as
// kubeadm's default bind port.
const APIServerPort = 6443

// Options configure the simulated guests.
type Options struct {
	// BootDelay is how long a VM takes, from the moment it is powered on
	// with an IP and bootstrap data, until its Node (and, on a control
	// plane, its API server) is up. 0 boots at once (benchmarks).
	BootDelay time.Duration

	// MinPort and MaxPort bound the ports of the in-memory API servers, one
	// per guest cluster for the life of the process (ports are not reused).
	// Each process needs a range of its own: the mux binds them on all
	// interfaces. Default DefaultMinPort..DefaultMaxPort.
	MinPort, MaxPort int32

	// Concurrency is the number of VMs booted or shut down at once
	// (default 10).
	Concurrency int
}

func (o Options) defaulted() (Options, error) {
	if o.MinPort == 0 && o.MaxPort == 0 {
		o.MinPort, o.MaxPort = DefaultMinPort, DefaultMaxPort
	}
	if o.MinPort <= 0 || o.MaxPort < o.MinPort || o.MaxPort > 65535 {
		return o, fmt.Errorf("invalid guest API server port range %d-%d", o.MinPort, o.MaxPort)
	}
	if o.BootDelay < 0 {
		return o, fmt.Errorf("negative boot delay %s", o.BootDelay)
	}
	if o.Concurrency == 0 {
		o.Concurrency = 10
	}
	return o, nil
}
