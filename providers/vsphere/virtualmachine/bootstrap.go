package virtualmachine

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"

	"github.com/vmware/govmomi/vim25/types"
	"sigs.k8s.io/yaml"
)

// guestinfo keys cloud-init's VMware datasource reads.
const (
	guestinfoMetadata         = "guestinfo.metadata"
	guestinfoMetadataEncoding = "guestinfo.metadata.encoding"
	guestinfoUserdata         = "guestinfo.userdata"
	guestinfoUserdataEncoding = "guestinfo.userdata.encoding"
)

// guestNetwork is what the guest needs to configure its interface.
type guestNetwork struct {
	Interface   string
	Address     netip.Prefix
	Gateway     string
	Nameservers []string
	Search      []string
}

// renderMetadata renders cloud-init instance metadata with a netplan v2
// network section, as the peers (CAPV, vm-operator) write it.
func renderMetadata(instanceID, hostname string, nw *guestNetwork) ([]byte, error) {
	md := map[string]any{
		"instance-id":    instanceID,
		"local-hostname": hostname,
	}
	if nw != nil {
		eth := map[string]any{
			"match":     map[string]any{"name": "e*"},
			"set-name":  nw.Interface,
			"dhcp4":     false,
			"addresses": []string{nw.Address.String()},
		}
		if nw.Gateway != "" {
			eth["gateway4"] = nw.Gateway
		}
		if len(nw.Nameservers) > 0 || len(nw.Search) > 0 {
			eth["nameservers"] = map[string]any{"addresses": nw.Nameservers, "search": nw.Search}
		}
		md["wait-on-network"] = map[string]any{"ipv4": true}
		md["network"] = map[string]any{
			"version":   2,
			"ethernets": map[string]any{nw.Interface: eth},
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
	for _, eth := range md.Network.Ethernets {
		for _, a := range eth.Addresses {
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
