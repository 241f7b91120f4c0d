package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestUntrustedCertificateDeclinedWritesNothing(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)
	before := env.writeExisting(t)
	env.stdin = "no\n"

	r := env.run("login", "--server", sv.URL, "-u", testUser)

	if !errors.Is(r.err, errNotTrusted) {
		t.Errorf("err = %v, want errNotTrusted", r.err)
	}
	if !strings.Contains(r.stderr, "Do you want to trust it? (yes/no)") || !strings.Contains(r.stderr, fingerprint(sv.Certificate())) {
		t.Errorf("the question does not show the certificate's fingerprint:\n%s", r.stderr)
	}
	if n, _, _ := sv.logins(); n != 0 {
		t.Errorf("credentials were sent to an untrusted server (%d logins)", n)
	}
	if !bytes.Equal(env.kubeconfigBytes(t), before) {
		t.Errorf("a declined login changed the kubeconfig")
	}
}

func TestUntrustedCertificateWithoutAnswerWritesNothing(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t) // stdin is empty: no terminal, no consent

	r := env.run("login", "--server", sv.URL, "-u", testUser)

	if !errors.Is(r.err, errNotTrusted) {
		t.Errorf("err = %v, want errNotTrusted", r.err)
	}
	if data := env.kubeconfigBytes(t); data != nil {
		t.Errorf("a declined login wrote a kubeconfig:\n%s", data)
	}
}

func TestUntrustedCertificateAcceptedIsStored(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)
	env.stdin = "maybe\nyes\n"

	r := env.run("login", "--server", sv.URL, "-u", testUser)
	mustSucceed(t, r)

	if !strings.Contains(r.stderr, "Please type 'yes' or 'no'") {
		t.Errorf("an unclear answer was not asked again:\n%s", r.stderr)
	}
	ca := encodePEM(sv.Certificate())
	cfg := env.loadKubeconfig(t)
	for _, name := range []string{"127.0.0.1", "10.10.70.12"} {
		assertCluster(t, cfg, name, &clientcmdapi.Cluster{
			Server: "https://" + name + ":6443", CertificateAuthorityData: ca,
		})
	}

	// The next login trusts the stored CA without asking.
	env.stdin = ""
	again := env.run("login", "--server", sv.URL, "-u", testUser)
	mustSucceed(t, again)
	if strings.Contains(again.stderr, "trust") {
		t.Errorf("a second login asked again:\n%s", again.stderr)
	}
	assertCluster(t, env.loadKubeconfig(t), "127.0.0.1", &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443", CertificateAuthorityData: ca})
}

func TestCertificateTrustedBySystemIsNotStored(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)
	env.systemRoots = x509.NewCertPool()
	env.systemRoots.AddCert(sv.Certificate())

	r := env.run("login", "--server", sv.URL, "-u", testUser)
	mustSucceed(t, r)

	if strings.Contains(r.stderr, "trust") {
		t.Errorf("a certificate the system trusts was questioned:\n%s", r.stderr)
	}
	// kubectl then checks the API server against the system's roots too.
	assertCluster(t, env.loadKubeconfig(t), "127.0.0.1", &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443"})
}
