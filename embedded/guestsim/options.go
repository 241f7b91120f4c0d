package guestsim

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
)

// Default port range of the guest API servers on loopback: below Linux's
// ephemeral ports (32768+), so an outgoing connection never holds a port a
// guest wants.
const (
	DefaultMinPort = 20000
	DefaultMaxPort = 29999
)

// APIServerPort is where a control-plane VM serves its guest API server, as
// kubeadm's default bind port.
const APIServerPort = 6443

// loopbackHost is where the guests' API servers listen.
const loopbackHost = "127.0.0.1"

// Options configure the simulated guests.
type Options struct {
	// BootDelay is how long a VM takes, from the moment it is powered on
	// with an IP and bootstrap data, until its Node (and, on a control
	// plane, its API server) is up. 0 boots at once (benchmarks).
	BootDelay time.Duration

	// EtcdServers is the etcd the guests' API servers keep their data in,
	// each under /guests/<namespace>/<cluster> (the embedded stack's own
	// etcd). Required.
	EtcdServers []string

	// AssetsDir holds kube-apiserver and kube-controller-manager; "" finds
	// them as the embedded control plane does (bin/ of the repository,
	// beside the executable, or $KUBEBUILDER_ASSETS).
	AssetsDir string

	// StateDir receives each guest's certificates, configuration and logs
	// (<namespace>-<cluster>/kube-apiserver.log). Required.
	StateDir string

	// Authenticators returns the JWT issuers guest API servers trust (the
	// supervisor's login service), read when a guest API server starts.
	Authenticators func() []apiserverv1.JWTAuthenticator

	// MinPort and MaxPort bound the loopback ports of the guest API
	// servers. Default DefaultMinPort..DefaultMaxPort.
	MinPort, MaxPort int32

	// Concurrency is the number of VMs booted or shut down at once
	// (default 10).
	Concurrency int
}

func (o Options) defaulted() (Options, error) {
	if o.MinPort == 0 && o.MaxPort == 0 {
		o.MinPort, o.MaxPort = DefaultMinPort, DefaultMaxPort
	}
	switch {
	case o.MinPort <= 0 || o.MaxPort < o.MinPort || o.MaxPort > 65535:
		return o, fmt.Errorf("invalid guest API server port range %d-%d", o.MinPort, o.MaxPort)
	case o.BootDelay < 0:
		return o, fmt.Errorf("negative boot delay %s", o.BootDelay)
	case len(o.EtcdServers) == 0:
		return o, errors.New("no etcd for the guest API servers")
	case o.StateDir == "":
		return o, errors.New("no state directory for the guest API servers")
	}
	if o.Concurrency == 0 {
		o.Concurrency = 10
	}
	return o, nil
}

// portRange hands out loopback ports that are free when asked for, in
// turn, so that a port a stopped guest used is not reused at once.
type portRange struct {
	mu       sync.Mutex
	min, max int32
	cursor   int32
}

func (p *portRange) next() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range p.max - p.min + 1 {
		if p.cursor < p.min || p.cursor > p.max {
			p.cursor = p.min
		}
		port := p.cursor
		p.cursor++
		ln, err := net.Listen("tcp", net.JoinHostPort(loopbackHost, strconv.Itoa(int(port))))
		if err != nil {
			continue
		}
		_ = ln.Close()
		return int(port), nil
	}
	return 0, fmt.Errorf("no free port in %d-%d for a guest API server", p.min, p.max)
}
