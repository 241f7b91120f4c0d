package main

import (
	"strings"
	"testing"
)

// The login service is off by default and, when asked for, refuses to
// start without a certificate or an issuer URL, naming the flag.
func TestLoginOptions(t *testing.T) {
	off, err := options{}.loginOptions(nil, nil)
	if err != nil || off.Authenticator != nil {
		t.Fatalf("no --login-bind-address: %+v, %v; want the login service off", off, err)
	}
	for _, tc := range []struct {
		o    options
		flag string
	}{
		{options{loginAddr: "127.0.0.1:8443", loginIssuerURL: "https://127.0.0.1:8443"}, "--login-tls-cert-file"},
		{options{loginAddr: "127.0.0.1:8443", loginCertFile: "c", loginKeyFile: "k"}, "--login-issuer-url"},
		{options{loginAddr: "127.0.0.1:8443", loginCertFile: "/no/such.crt", loginKeyFile: "/no/such.key", loginIssuerURL: "https://127.0.0.1:8443"}, "certificate"},
	} {
		if _, err := tc.o.loginOptions(nil, nil); err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%+v: %v; want an error naming %s", tc.o, err, tc.flag)
		}
	}
}
