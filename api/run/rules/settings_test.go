package rules

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// validSettings are defaulted settings that pass ValidateSettings with no
// facts.
func validSettings() *Settings {
	return &Settings{Network: &NetworkSettings{
		CNI:           &CNI{Name: CNIAntrea},
		Pods:          &NetworkRanges{CIDRBlocks: []string{DefaultPodCIDR}},
		Services:      &NetworkRanges{CIDRBlocks: []string{DefaultServiceCIDR}},
		ServiceDomain: DefaultServiceDomain,
	}}
}

func TestDefaultSettingsFillsWhatIsLeftOut(t *testing.T) {
	f := Facts{
		DefaultCNI:   CNICalico,
		DefaultProxy: &Proxy{HTTPProxy: ptr.To("http://proxy:3128")},
		DefaultTrust: &Trust{AdditionalTrustedCAs: []TrustedCA{{Name: "corp", Data: "Y29ycA=="}}},
	}
	var s *Settings
	DefaultSettings(&s, f)
	n := s.Network
	if n.CNI.Name != CNICalico || !slices.Equal(n.Pods.CIDRBlocks, []string{DefaultPodCIDR}) ||
		!slices.Equal(n.Services.CIDRBlocks, []string{DefaultServiceCIDR}) || n.ServiceDomain != DefaultServiceDomain {
		t.Errorf("network defaults = %+v", n)
	}
	if n.Proxy == nil || *n.Proxy.HTTPProxy != "http://proxy:3128" || n.Trust == nil || n.Trust.AdditionalTrustedCAs[0].Name != "corp" {
		t.Errorf("the TkgServiceConfiguration's proxy and trust were not applied: %+v %+v", n.Proxy, n.Trust)
	}
	if n.Proxy == f.DefaultProxy || n.Trust == f.DefaultTrust {
		t.Error("the cluster shares the facts' proxy or trust; defaulting the next cluster would see this one's changes")
	}

	mine := &Settings{Network: &NetworkSettings{
		Pods:  &NetworkRanges{CIDRBlocks: []string{"10.0.0.0/16"}},
		Proxy: &Proxy{NoProxy: []string{"localhost"}},
	}}
	DefaultSettings(&mine, f)
	if n := mine.Network; !slices.Equal(n.Pods.CIDRBlocks, []string{"10.0.0.0/16"}) || n.Proxy.HTTPProxy != nil || n.Trust == nil {
		t.Errorf("defaulting replaced what the user set or skipped what was left out: %+v", n)
	}
}

// A version's settings may gain a field before rules does: defaulting must
// keep it rather than write back only what rules knows.
func TestDefaultSettingsKeepsFieldsRulesDoesNotKnow(t *testing.T) {
	type network struct {
		ServiceDomain string `json:"serviceDomain,omitempty"`
		MTU           int    `json:"mtu,omitempty"`
	}
	type settings struct {
		Network *network `json:"network,omitempty"`
	}
	s := &settings{Network: &network{MTU: 1400}}
	DefaultSettings(&s, Facts{DefaultCNI: CNIAntrea})
	if s.Network.MTU != 1400 || s.Network.ServiceDomain != DefaultServiceDomain {
		t.Errorf("settings = %+v, want the MTU kept and the service domain defaulted", s.Network)
	}
}

func TestSettingsUpdateKeepsNetworkFixed(t *testing.T) {
	old := validSettings()
	for _, tc := range []struct {
		mutate func(*Settings)
		field  string
	}{
		{func(s *Settings) { s.Network.CNI.Name = CNICalico }, "spec.settings.network.cni"},
		{func(s *Settings) { s.Network.Pods.CIDRBlocks = []string{"10.0.0.0/16"} }, "spec.settings.network.pods.cidrBlocks"},
		{func(s *Settings) { s.Network.Services.CIDRBlocks = nil }, "spec.settings.network.services.cidrBlocks"},
		{func(s *Settings) { s.Network.ServiceDomain = "corp.local" }, "spec.settings.network.serviceDomain"},
		{func(s *Settings) { s.Storage = &StorageSettings{DefaultClass: "fast"} }, ""},
	} {
		var cur Settings
		if err := CopyJSON(old, &cur); err != nil {
			t.Fatal(err)
		}
		tc.mutate(&cur)
		errs := ValidateSettingsUpdate(field.NewPath("spec", "settings"), old, &cur)
		if tc.field == "" && len(errs) != 0 || tc.field != "" && (len(errs) != 1 || errs[0].Field != tc.field) {
			t.Errorf("want one error at %q, got %v", tc.field, errs)
		}
	}
}

func TestSettingsThatDoNotReadAreAnInternalError(t *testing.T) {
	notSettings := map[string]any{"network": map[string]any{"serviceDomain": 3}}
	errs := ValidateSettings(field.NewPath("spec", "settings"), notSettings, Facts{})
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeInternal || errs[0].Field != "spec.settings" {
		t.Errorf("want one internal error at spec.settings, got %v", errs)
	}
}
