package rules

import (
	"encoding/base64"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestHintsMatchSemanticPrefixes(t *testing.T) {
	for _, tc := range []struct {
		hint, full string
		want       bool
	}{
		{"v1.15.1", "v1.15.1+vmware.2-tkg.1", true},
		{"v1.15.1", "v1.15.10+vmware.1-tkg.1", false},
		{"v1.18", "v1.18.20+vmware.1-tkg.1", true},
		{"1.18", "v1.18.20+vmware.1-tkg.1", true},
		{"v1.1", "v1.18.20+vmware.1-tkg.1", false},
		{"v1.18.20+vmware.1", "v1.18.20+vmware.1-tkg.1", true},
		{"v1.18.20+vmware.1", "v1.18.20+vmware.10-tkg.1", false},
		{"v1.18.20+vmware.1-tkg.1", "v1.18.20+vmware.1-tkg.1", true},
	} {
		if got := HintMatches(tc.hint, tc.full); got != tc.want {
			t.Errorf("HintMatches(%s, %s) = %v, want %v", tc.hint, tc.full, got, tc.want)
		}
	}
}

func TestResolvePicksNewestCompatible(t *testing.T) {
	rels := []Release{
		{Name: "v1.18.20---vmware.1-tkg.1", Version: "v1.18.20+vmware.1-tkg.1"},
		{Name: "v1.18.20---vmware.10-tkg.1", Version: "v1.18.20+vmware.10-tkg.1"},
		{Name: "v1.18.20---vmware.9-tkg.1", Version: "v1.18.20+vmware.9-tkg.1"},
		{Name: "v1.18.21---vmware.1-tkg.1", Version: "v1.18.21+vmware.1-tkg.1", Incompatible: true},
		{Name: "v1.19.16---vmware.1-tkg.1", Version: "v1.19.16+vmware.1-tkg.1"},
	}
	for hint, want := range map[string]string{
		"v1.18": "v1.18.20---vmware.10-tkg.1", "v1.18.20": "v1.18.20---vmware.10-tkg.1",
		"v1.18.20+vmware.9": "v1.18.20---vmware.9-tkg.1", "": "v1.19.16---vmware.1-tkg.1",
	} {
		r, err := Resolve(hint, rels)
		if err != nil || r.Name != want {
			t.Errorf("Resolve(%q) = %s, %v; want %s", hint, r.Name, err, want)
		}
	}
	if _, err := Resolve("v1.18.21", rels); err == nil {
		t.Error("an incompatible release was picked")
	}
}

func TestNonCanonicalCIDRsAreTheirNetworks(t *testing.T) {
	nets, errs := ParseCIDRs(field.NewPath("p"), []string{"193.0.2.0/16", "195.51.100.0/12"})
	if len(errs) != 0 || nets[0].String() != "193.0.0.0/16" || nets[1].String() != "195.48.0.0/12" {
		t.Errorf("ParseCIDRs = %v, %v", nets, errs)
	}
	if errs := ValidateNetwork(field.NewPath("n"), "antrea", []string{"193.0.2.0/16"}, []string{"195.51.100.0/12"}, nil); len(errs) != 0 {
		t.Errorf("the sample's ranges were rejected: %v", errs)
	}
}

func TestUpgradeRules(t *testing.T) {
	p := field.NewPath("v")
	for _, tc := range []struct {
		old, new string
		ok       bool
	}{
		{"v1.18.20+vmware.1-tkg.1", "v1.19.16+vmware.1-tkg.1", true},
		{"v1.18.20+vmware.1-tkg.1", "v1.18.20+vmware.2-tkg.1", true},
		{"v1.19.16+vmware.1-tkg.1", "v1.18.20+vmware.1-tkg.1", false},
		{"v1.18.20+vmware.1-tkg.1", "v1.20.15+vmware.1-tkg.1", false},
		{"v1.23.17+vmware.1-tkg.1", "v2.0.0+vmware.1-tkg.1", false},
		{"v1.36.3+vmware.1-tkg.1", "v1.37.0+vmware.1-tkg.1", true},
		{"v1.35.5+vmware.1-tkg.1", "v1.37.0+vmware.1-tkg.1", false},
		{"v1.9.11+vmware.1-tkg.1", "v1.10.0+vmware.1-tkg.1", true},
	} {
		if errs := ValidateUpgrade(p, tc.old, tc.new); (len(errs) == 0) != tc.ok {
			t.Errorf("%s → %s: %v", tc.old, tc.new, errs)
		}
	}
}

func TestProxyAndTrustRules(t *testing.T) {
	bad := "ftp://proxy"
	noHost := "http://"
	s := validSettings()
	s.Network.Proxy = &Proxy{HTTPProxy: &bad, HTTPSProxy: &noHost}
	s.Network.Trust = &Trust{AdditionalTrustedCAs: []TrustedCA{
		{Name: "ok", Data: base64.StdEncoding.EncodeToString([]byte("not pem"))},
		{Name: "ok", Data: "%%%"},
		{Name: "Bad Name", Data: ""},
	}}
	errs := ValidateSettings(field.NewPath("spec", "settings"), s, Facts{})
	want := []string{
		"spec.settings.network.proxy.httpProxy",
		"spec.settings.network.proxy.httpsProxy",
		"spec.settings.network.trust.additionalTrustedCAs[0].data",
		"spec.settings.network.trust.additionalTrustedCAs[1].name",
		"spec.settings.network.trust.additionalTrustedCAs[1].data",
		"spec.settings.network.trust.additionalTrustedCAs[2].name",
		"spec.settings.network.trust.additionalTrustedCAs[2].data",
	}
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Field] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("no error at %s; got %v", w, errs)
		}
	}
	if len(errs) != len(want) {
		t.Errorf("want %d errors, got %d: %v", len(want), len(errs), errs)
	}
	if errs := ValidateSettings(field.NewPath("n"), validSettings(), Facts{}); len(errs) != 0 {
		t.Errorf("absent proxy and trust must be valid: %v", errs)
	}
}
