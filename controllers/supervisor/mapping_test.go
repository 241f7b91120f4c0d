package supervisor

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/iprange"
)

func TestRangeOf(t *testing.T) {
	for _, tc := range []struct {
		in      vspherev1.AddressRange
		want    string
		wantErr bool
	}{
		{vspherev1.AddressRange{Address: "192.168.20.100", Count: 64}, "192.168.20.100-192.168.20.163", false},
		{vspherev1.AddressRange{Address: "10.0.0.250", Count: 10}, "10.0.0.250-10.0.1.3", false},
		{vspherev1.AddressRange{Address: "127.30.0.1", Count: 1}, "127.30.0.1-127.30.0.1", false},
		{vspherev1.AddressRange{Address: "255.255.255.250", Count: 10}, "", true},
		{vspherev1.AddressRange{Address: "10.0.0.1", Count: 0}, "", true},
		{vspherev1.AddressRange{Address: "fe80::1", Count: 2}, "", true},
		{vspherev1.AddressRange{Address: "nope", Count: 2}, "", true},
	} {
		got, err := RangeOf(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("RangeOf(%+v) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err == nil {
			// What WorkloadNetworks' IPAM parses, of the size asked for.
			r, err := iprange.Parse(got)
			if err != nil || r.Size() != int(tc.in.Count) {
				t.Errorf("%q parses as %+v (%v), want %d addresses", got, r, err, tc.in.Count)
			}
		}
	}
}

func TestPrefixLength(t *testing.T) {
	for mask, want := range map[string]int32{
		"255.255.255.0": 24, "255.255.0.0": 16, "255.255.255.252": 30, "255.255.255.255": 32, "128.0.0.0": 1, "255.255.240.0": 20,
	} {
		if got, err := PrefixLength(mask); err != nil || got != want {
			t.Errorf("PrefixLength(%s) = %d, %v; want %d", mask, got, err, want)
		}
	}
	for _, bad := range []string{"255.0.255.0", "0.0.0.0", "255.255.255.1", "24", "ffff:ffff::", ""} {
		if got, err := PrefixLength(bad); err == nil {
			t.Errorf("PrefixLength(%q) = %d, want an error", bad, got)
		}
	}
}

func TestFirstVIP(t *testing.T) {
	vip, err := FirstVIP([]vspherev1.AddressRange{{Address: "192.168.30.64", Count: 64}, {Address: "192.168.31.0", Count: 8}})
	if err != nil || vip.String() != "192.168.30.64" {
		t.Errorf("FirstVIP = %s, %v", vip, err)
	}
	if _, err := FirstVIP(nil); err == nil {
		t.Error("no range must be an error")
	}
}

func TestEndpointAddress(t *testing.T) {
	for addr, want := range map[string]discoveryv1.AddressType{
		"10.0.0.5":    discoveryv1.AddressTypeIPv4,
		"127.0.0.1":   discoveryv1.AddressTypeFQDN, // the embedded stack's API server
		"169.254.1.1": discoveryv1.AddressTypeFQDN,
		"2001:db8::1": discoveryv1.AddressTypeIPv6,
		"::1":         "",
	} {
		got, err := endpointAddress(netip.MustParseAddr(addr))
		if got != want || (want == "") != (err != nil) {
			t.Errorf("endpointAddress(%s) = %q, %v; want %q", addr, got, err, want)
		}
	}
}

func TestBackends(t *testing.T) {
	obs := &observation{controlPlane: &controlPlaneState{addresses: []string{"10.2.0.11", "10.2.0.12"}}}
	target := endpointTarget{portName: "kube-apiserver", port: 6443, addr: "127.0.0.1:36443"}
	served := &Reconciler{ControlPlaneServes: true}
	ips, port, err := served.backends(context.Background(), target, obs)
	if err != nil || port != 6443 || fmt.Sprint(ips) != "[10.2.0.11 10.2.0.12]" {
		t.Errorf("served by the control plane: %v :%d (%v); want the VMs on 6443", ips, port, err)
	}
	direct := &Reconciler{}
	ips, port, err = direct.backends(context.Background(), target, obs)
	if err != nil || port != 36443 || fmt.Sprint(ips) != "[127.0.0.1]" {
		t.Errorf("direct: %v :%d (%v); want the API server", ips, port, err)
	}
}
