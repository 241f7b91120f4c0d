package virtualmachine

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/vmware/govmomi/vim25/types"
	"sigs.k8s.io/yaml"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

// guestinfo keys cloud-init's VMware datasource reads.
const (
	guestinfoMetadata         = "guestinfo.metadata"
	guestinfoMetadataEncoding = "guestinfo.metadata.encoding"
	guestinfoUserdata         = "guestinfo.userdata"
	guestinfoUserdataEncoding = "guestinfo.userdata.encoding"
)

// guestNetwork is what the guest needs to configure one interface.
type guestNetwork struct {
	Interface   string
	Addresses   []netip.Prefix
	DHCP4       bool
	DHCP6       bool
	Gateway4    string
	Gateway6    string
	MTU         *int64
	Nameservers []string
	Search      []string
	Routes      []vmopv1.VirtualMachineNetworkRouteSpec
}

// primaryAddress is the first address of the first interface, if any.
func primaryAddress(nws []*guestNetwork) (netip.Prefix, bool) {
	if len(nws) == 0 || len(nws[0].Addresses) == 0 {
		return netip.Prefix{}, false
	}
	return nws[0].Addresses[0], true
}

// renderMetadata renders cloud-init instance metadata with a netplan v2
// network section, as the peers (CAPV, vm-operator) write it. A single
// interface matches the guest's first NIC by name pattern (its guest name
// differs by OS); several are named, in NIC order.
func renderMetadata(instanceID, hostname string, nws []*guestNetwork) ([]byte, error) {
	md := map[string]any{
		"instance-id":    instanceID,
		"local-hostname": hostname,
	}
	if len(nws) > 0 {
		ethernets := map[string]any{}
		for _, nw := range nws {
			eth := map[string]any{
				"dhcp4": nw.DHCP4,
			}
			if len(nws) == 1 {
				eth["match"] = map[string]any{"name": "e*"}
				eth["set-name"] = nw.Interface
			}
			if nw.DHCP6 {
				eth["dhcp6"] = true
			}
			if len(nw.Addresses) > 0 {
				addrs := make([]string, 0, len(nw.Addresses))
				for _, a := range nw.Addresses {
					addrs = append(addrs, a.String())
				}
				eth["addresses"] = addrs
			}
			if nw.Gateway4 != "" && nw.Gateway4 != "None" {
				eth["gateway4"] = nw.Gateway4
			}
			if nw.Gateway6 != "" && nw.Gateway6 != "None" {
				eth["gateway6"] = nw.Gateway6
			}
			if nw.MTU != nil {
				eth["mtu"] = *nw.MTU
			}
			if len(nw.Nameservers) > 0 || len(nw.Search) > 0 {
				eth["nameservers"] = map[string]any{"addresses": nw.Nameservers, "search": nw.Search}
			}
			if len(nw.Routes) > 0 {
				routes := make([]map[string]any, 0, len(nw.Routes))
				for _, r := range nw.Routes {
					route := map[string]any{"to": r.To, "via": r.Via}
					if r.Metric != 0 {
						route["metric"] = r.Metric
					}
					routes = append(routes, route)
				}
				eth["routes"] = routes
			}
			ethernets[nw.Interface] = eth
		}
		md["wait-on-network"] = map[string]any{"ipv4": true}
		md["network"] = map[string]any{
			"version":   2,
			"ethernets": ethernets,
		}
	}
	return yaml.Marshal(md)
}

// MetadataAddresses returns the static addresses a rendered guestinfo
// metadata document gives the guest; the simulated guest uses it to report
// the IP a real guest would configure.
func MetadataAddresses(metadata []byte) ([]netip.Prefix, error) {
	var md struct {
		Network struct {
			Ethernets map[string]struct {
				Addresses []string `json:"addresses"`
			} `json:"ethernets"`
		} `json:"network"`
	}
	if err := yaml.Unmarshal(metadata, &md); err != nil {
		return nil, err
	}
	var out []netip.Prefix
	// In interface name order, so that the first interface's address
	// (eth0's) comes first, as the guest reports its primary address.
	for _, name := range slices.Sorted(maps.Keys(md.Network.Ethernets)) {
		for _, a := range md.Network.Ethernets[name].Addresses {
			p, err := netip.ParsePrefix(a)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// validateUserData checks that data is something cloud-init runs: a
// #cloud-config YAML document, a script, a MIME multipart or another
// cloud-init part type.
func validateUserData(data []byte) error {
	data = bytes.TrimLeft(data, "\ufeff")
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("is empty")
	}
	first, _, _ := strings.Cut(string(data), "\n")
	first = strings.TrimSpace(first)
	switch {
	case strings.HasPrefix(first, "#cloud-config"):
		var doc map[string]any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("is not valid #cloud-config YAML: %w", err)
		}
		return nil
	case strings.HasPrefix(first, "#!"),
		strings.HasPrefix(first, "#include"),
		strings.HasPrefix(first, "#cloud-boothook"),
		strings.HasPrefix(first, "## template: jinja"),
		strings.HasPrefix(strings.ToLower(first), "content-type: multipart/"),
		strings.HasPrefix(strings.ToLower(first), "mime-version:"):
		return nil
	}
	return fmt.Errorf("does not start with #cloud-config, #! or a MIME header, so cloud-init would ignore it")
}

// sshKeysUserData renders user data that only installs SSH keys.
func sshKeysUserData(keys []string) []byte {
	b, _ := yaml.Marshal(map[string]any{"ssh_authorized_keys": keys})
	return append([]byte("#cloud-config\n"), b...)
}

// guestinfo returns the extraConfig entries carrying metadata and user data.
func guestinfo(metadata, userdata []byte) []types.BaseOptionValue {
	opts := []types.BaseOptionValue{
		&types.OptionValue{Key: guestinfoMetadata, Value: base64.StdEncoding.EncodeToString(metadata)},
		&types.OptionValue{Key: guestinfoMetadataEncoding, Value: "base64"},
	}
	if len(userdata) > 0 {
		opts = append(opts,
			&types.OptionValue{Key: guestinfoUserdata, Value: base64.StdEncoding.EncodeToString(userdata)},
			&types.OptionValue{Key: guestinfoUserdataEncoding, Value: "base64"},
		)
	}
	return opts
}
