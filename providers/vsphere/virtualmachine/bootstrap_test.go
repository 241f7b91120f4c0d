package virtualmachine

import (
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestValidateUserData(t *testing.T) {
	ok := []string{
		"#cloud-config\nruncmd:\n- echo hi\n",
		"#!/bin/sh\necho hi\n",
		"Content-Type: multipart/mixed; boundary=\"X\"\nMIME-Version: 1.0\n\n--X--\n",
		"## template: jinja\n#cloud-config\n",
		"\ufeff#cloud-config\n{}\n",
	}
	for _, s := range ok {
		if err := validateUserData([]byte(s)); err != nil {
			t.Errorf("%q: want accepted, got %v", s, err)
		}
	}
	bad := map[string]string{
		"":                                   "is empty",
		"hello world":                        "does not start with",
		"#cloud-config\nruncmd: [unclosed\n": "not valid #cloud-config YAML",
	}
	for s, want := range bad {
		if err := validateUserData([]byte(s)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want error containing %q, got %v", s, want, err)
		}
	}
}

func TestMetadataConfiguresStaticAddress(t *testing.T) {
	nw := &guestNetwork{
		Interface:   "eth0",
		Addresses:   []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")},
		Gateway4:    "10.0.0.1",
		Nameservers: []string{"10.0.0.2"},
	}
	md, err := renderMetadata("uid-1", "node-0", []*guestNetwork{nw})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		InstanceID    string `json:"instance-id"`
		LocalHostname string `json:"local-hostname"`
		WaitOnNetwork struct {
			IPv4 bool `json:"ipv4"`
		} `json:"wait-on-network"`
		Network struct {
			Version   int `json:"version"`
			Ethernets map[string]struct {
				Addresses   []string `json:"addresses"`
				Gateway4    string   `json:"gateway4"`
				DHCP4       bool     `json:"dhcp4"`
				Nameservers struct {
					Addresses []string `json:"addresses"`
				} `json:"nameservers"`
			} `json:"ethernets"`
		} `json:"network"`
	}
	if err := yaml.Unmarshal(md, &doc); err != nil {
		t.Fatal(err)
	}
	eth := doc.Network.Ethernets["eth0"]
	if doc.InstanceID != "uid-1" || doc.LocalHostname != "node-0" || !doc.WaitOnNetwork.IPv4 || doc.Network.Version != 2 ||
		eth.DHCP4 || len(eth.Addresses) != 1 || eth.Addresses[0] != "10.0.0.5/24" || eth.Gateway4 != "10.0.0.1" ||
		len(eth.Nameservers.Addresses) != 1 {
		t.Fatalf("unexpected metadata:\n%s", md)
	}
	addrs, err := MetadataAddresses(md)
	if err != nil || len(addrs) != 1 || addrs[0].String() != "10.0.0.5/24" {
		t.Fatalf("MetadataAddresses = %v, %v", addrs, err)
	}
}

func TestGuestinfoIsBase64(t *testing.T) {
	opts := guestinfo([]byte("md"), []byte("#cloud-config\n"))
	got := map[string]string{}
	for _, o := range opts {
		ov := o.GetOptionValue()
		got[ov.Key] = ov.Value.(string)
	}
	if got["guestinfo.metadata.encoding"] != "base64" || got["guestinfo.userdata.encoding"] != "base64" {
		t.Fatalf("encodings missing: %v", got)
	}
	ud, _ := base64.StdEncoding.DecodeString(got["guestinfo.userdata"])
	if string(ud) != "#cloud-config\n" {
		t.Fatalf("userdata round trip: %q", ud)
	}
	if _, ok := got["guestinfo.userdata"]; !ok {
		t.Fatal("userdata missing")
	}
	if len(guestinfo([]byte("md"), nil)) != 2 {
		t.Fatal("no user data must mean no userdata keys")
	}
}
