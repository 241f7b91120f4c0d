package testfixtures

import (
	"context"
	"net/netip"

	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/internal/iprange"
)

// Lookups is an in-memory rules.Lookups.
type Lookups struct {
	Classes  map[string][]string // namespace -> VM classes
	Storage  map[string][]string // namespace -> storage classes
	Rels     []rules.Release
	Networks []rules.Network
	CNI      string
	Proxy    *rules.Proxy
	Trust    *rules.Trust
}

var _ rules.Lookups = &Lookups{}

// VMClasses implements rules.Lookups.
func (l *Lookups) VMClasses(_ context.Context, ns string) ([]string, error) {
	return l.Classes[ns], nil
}

// StorageClasses implements rules.Lookups.
func (l *Lookups) StorageClasses(_ context.Context, ns string) ([]string, error) {
	return l.Storage[ns], nil
}

// Releases implements rules.Lookups.
func (l *Lookups) Releases(context.Context) ([]rules.Release, error) { return l.Rels, nil }

// SupervisorNetworks implements rules.Lookups.
func (l *Lookups) SupervisorNetworks(context.Context) ([]rules.Network, error) {
	return l.Networks, nil
}

// ServiceDefaults implements rules.Lookups.
func (l *Lookups) ServiceDefaults(context.Context) (rules.ServiceDefaults, error) {
	return rules.ServiceDefaults{CNI: l.CNI, Proxy: l.Proxy, Trust: l.Trust}, nil
}

// Supervisor is the embedded supervisor as a TKC sees it from namespace
// ns1: the default VM classes, the k8s-storage class, the six releases the
// project ships (templates.Releases) and loopback workload and VIP ranges.
func Supervisor() *Lookups {
	var classes []string
	for _, size := range []string{"xsmall", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge"} {
		classes = append(classes, "guaranteed-"+size, "best-effort-"+size)
	}
	l := &Lookups{
		Classes: map[string][]string{"ns1": classes},
		Storage: map[string][]string{"ns1": {"k8s-storage", "fast"}},
		Networks: []rules.Network{
			{Name: "workload network workload", Range: iprange.Range{First: netip.MustParseAddr("127.20.0.10"), Last: netip.MustParseAddr("127.20.15.250")}},
			{Name: "load-balancer VIPs", Range: iprange.Range{First: netip.MustParseAddr("127.30.0.0"), Last: netip.MustParseAddr("127.30.0.255")}},
		},
	}
	for _, v := range []string{"v1.18.20", "v1.19.16", "v1.20.15", "v1.21.14", "v1.22.17", "v1.23.17"} {
		full := v + "+vmware.1-tkg.1"
		l.Rels = append(l.Rels, rules.Release{Name: rules.ReleaseName(full), Version: full})
	}
	return l
}

// Facts gathers the facts of namespace ns1 from Supervisor().
func Facts() rules.Facts {
	f, err := rules.Gather(context.Background(), Supervisor(), "ns1")
	if err != nil {
		panic(err)
	}
	return f
}
