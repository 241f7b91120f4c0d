package vapi

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

// Whatever body a client sends to the namespace-management REST API, in
// either form (/api raw, /rest wrapped), it decodes into the call's spec
// or is refused as INVALID_ARGUMENT; never a panic, never another error.
func FuzzReadBody(f *testing.F) {
	f.Add(true, []byte(`{"cluster":"domain-c8","namespace":"ns1","access_list":[{"role":"EDIT","subject_type":"USER","subject":"devops","domain":"vsphere.local"}]}`))
	f.Add(false, []byte(`{"spec":{"size_hint":"TINY","network_provider":"VSPHERE_NETWORK","load_balancer_config_spec":{"id":"haproxy","provider":"HA_PROXY"}}}`))
	f.Add(true, []byte(`{"id":"best-effort-xsmall","cpu_count":2,"memory_MB":2048}`))
	f.Add(false, []byte(`{"create_spec":{"namespace":"ns2","cluster":"domain-c8","unknown":1}}`))
	f.Add(true, []byte(`[1,2,3]`))
	f.Add(false, []byte(`{"spec":`))
	specs := []func() any{
		func() any { return &EnableSpec{} }, func() any { return &UpdateSpec{} }, func() any { return &NamespaceSpec{} },
		func() any { return &NetworkSpec{} }, func() any { return &VMClassSpec{} },
	}
	f.Fuzz(func(t *testing.T, raw bool, body []byte) {
		path := "/rest/vcenter/namespaces/instances"
		if raw {
			path = "/api/vcenter/namespaces/instances"
		}
		for _, spec := range specs {
			r := httptest.NewRequest("POST", path, strings.NewReader(string(body)))
			err := readBody(r, spec(), "spec", "create_spec")
			if err == nil {
				continue
			}
			var apiErr *apiError
			if !errors.As(err, &apiErr) || apiErr.Type != errInvalidArgument || len(apiErr.Messages) == 0 {
				t.Errorf("a bad body gave %v, want an INVALID_ARGUMENT with a message", err)
			}
		}
	})
}
