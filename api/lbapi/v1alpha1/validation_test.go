package v1alpha1

import (
	"strings"
	"testing"
)

func validLB() *LoadBalancer {
	return &LoadBalancer{Spec: LoadBalancerSpec{
		Provider: ProviderHAProxy,
		HAProxy: HAProxyConfig{
			Servers:              []DataPlaneAPIServer{{Host: "127.0.0.1", Port: 5556}},
			CredentialsSecretRef: SecretReference{Namespace: "kube-system", Name: "haproxy"},
		},
		AddressRanges: []AddressRange{{CIDR: "127.30.0.0/28"}, {Address: "127.30.1.10", Count: 5}},
	}}
}

func TestValidateNamesTheField(t *testing.T) {
	if errs := validLB().Validate(); len(errs) != 0 {
		t.Fatalf("a valid spec was rejected: %v", errs)
	}
	cases := []struct {
		mutate func(*LoadBalancer)
		field  string
	}{
		{func(lb *LoadBalancer) { lb.Spec.Provider = "AVI" }, "spec.provider"},
		{func(lb *LoadBalancer) { lb.Spec.HAProxy.Servers = nil }, "spec.haProxy.servers"},
		{func(lb *LoadBalancer) { lb.Spec.HAProxy.Servers[0].Port = 0 }, "spec.haProxy.servers[0].port"},
		{func(lb *LoadBalancer) { lb.Spec.HAProxy.CredentialsSecretRef.Name = "" }, "spec.haProxy.credentialsSecretRef.name"},
		{func(lb *LoadBalancer) { lb.Spec.AddressRanges[0].CIDR = "127.30.0.0/33" }, "spec.addressRanges[0].cidr"},
		{func(lb *LoadBalancer) { lb.Spec.AddressRanges[1].Count = 0 }, "spec.addressRanges[1].count"},
		{func(lb *LoadBalancer) { lb.Spec.AddressRanges[1].Address = "127.30.0.9" }, "spec.addressRanges[1]"}, // overlaps [0]
		{func(lb *LoadBalancer) { lb.Spec.AddressRanges[0].Address = "127.30.9.9" }, "spec.addressRanges[0]"}, // both forms
	}
	for _, tc := range cases {
		lb := validLB()
		tc.mutate(lb)
		errs := lb.Validate()
		if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), tc.field) {
			t.Errorf("want an error naming %s, got %v", tc.field, errs)
		}
	}
	ranges, _ := validLB().Spec.Ranges()
	if n := ranges[0].Size() + ranges[1].Size(); n != 21 {
		t.Errorf("a /28 and 5 addresses are 21 VIPs, got %d", n)
	}
}
