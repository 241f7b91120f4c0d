package virtualmachine

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// Whatever names and addresses a VM's spec carries, the cloud-init
// metadata rendered for it is YAML that gives the guest exactly those
// values back: the instance ID and hostname as strings (never read as a
// number, a boolean or null) and the static addresses, in interface order.
func FuzzRenderMetadata(f *testing.F) {
	f.Add("ns1/vm-1", "vm-1", "eth0", "10.0.0.5", uint8(24), "10.0.0.1", "10.0.0.2", "eth1", "192.168.1.7")
	f.Add("null", "yes", "0x10", "::1", uint8(128), "None", "", "true", "127.0.0.1")
	f.Add("1e3", "~", "e*", "", uint8(0), "", "8.8.8.8", "", "")
	f.Fuzz(func(t *testing.T, instanceID, hostname, iface0, addr0 string, bits uint8, gateway, nameserver, iface1, addr1 string) {
		for _, s := range []string{instanceID, hostname, iface0, gateway, nameserver, iface1} {
			if !utf8.ValidString(s) {
				t.Skip("the API server's JSON carries only UTF-8 strings")
			}
		}
		var want []netip.Prefix
		nw := func(name, addr string) *guestNetwork {
			g := &guestNetwork{Interface: name, Gateway4: gateway}
			if nameserver != "" {
				g.Nameservers = []string{nameserver}
			}
			if a, err := netip.ParseAddr(addr); err == nil {
				if p, err := a.Prefix(int(bits) % (a.BitLen() + 1)); err == nil {
					p = netip.PrefixFrom(a, p.Bits())
					g.Addresses = []netip.Prefix{p}
					want = append(want, p)
				}
			}
			return g
		}
		var nws []*guestNetwork
		if iface1 == "" || iface0 == iface1 {
			nws = []*guestNetwork{nw("eth0", addr0)}
		} else {
			nws = []*guestNetwork{nw(iface0, addr0), nw(iface1, addr1)}
			if iface0 > iface1 { // MetadataAddresses reads interfaces in name order
				want = append(slices.Clone(nws[1].Addresses), nws[0].Addresses...)
			}
		}
		out, err := renderMetadata(instanceID, hostname, nws)
		if err != nil {
			// YAML cannot carry control characters: such a value (which
			// the webhooks' name and address checks keep out) is refused.
			if !slices.ContainsFunc([]string{instanceID, hostname, iface0, gateway, nameserver, iface1}, hasControl) {
				t.Fatalf("rendering failed: %v", err)
			}
			return
		}
		var md struct {
			InstanceID    any `json:"instance-id"`
			LocalHostname any `json:"local-hostname"`
		}
		if err := yaml.Unmarshal(out, &md); err != nil {
			t.Fatalf("the metadata is not YAML: %v\n%s", err, out)
		}
		if md.InstanceID != instanceID || md.LocalHostname != hostname {
			t.Errorf("instance-id %#v and local-hostname %#v, want %q and %q:\n%s", md.InstanceID, md.LocalHostname, instanceID, hostname, out)
		}
		got, err := MetadataAddresses(out)
		if err != nil {
			t.Fatalf("the addresses do not read back: %v\n%s", err, out)
		}
		if len(got) != len(want) {
			t.Fatalf("addresses %v, want %v:\n%s", got, want, out)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("address %d is %v, want %v", i, got[i], want[i])
			}
		}
	})
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' })
}
