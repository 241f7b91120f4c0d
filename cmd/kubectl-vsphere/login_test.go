package main

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const wantSupervisorLoginOutput = `Logged in successfully.

You have access to the following contexts:
   127.0.0.1
   dev
   prod

If the context you wish to use is not in this list, you may need to try
logging in again later, or contact your cluster administrator.

To change context, use ` + "`kubectl config use-context <workload name>`" + `
`

func TestLoginInsecureWritesVMwaresEntries(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)
	existing := loadConfig(t, string(env.writeExisting(t)))

	r := env.run("login", "--server", sv.Listener.Addr().String(), "-u", testUser, "--insecure-skip-tls-verify")
	mustSucceed(t, r)

	if r.stdout != wantSupervisorLoginOutput {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, wantSupervisorLoginOutput)
	}
	_, _, tokens := sv.logins()
	cfg := env.loadKubeconfig(t)
	user := "wcp:127.0.0.1:" + testUser
	assertClusters(t, cfg, map[string]*clientcmdapi.Cluster{
		"127.0.0.1":   {Server: "https://127.0.0.1:6443", InsecureSkipTLSVerify: true},
		"10.10.70.12": {Server: "https://10.10.70.12:6443", InsecureSkipTLSVerify: true},
	})
	assertUsers(t, cfg, map[string]*clientcmdapi.AuthInfo{
		user:                          {Token: tokens[0]},
		"wcp:10.10.70.12:" + testUser: {Token: tokens[0]},
	})
	assertContexts(t, cfg, map[string]*clientcmdapi.Context{
		"127.0.0.1": {Cluster: "127.0.0.1", AuthInfo: user},
		"dev":       {Cluster: "127.0.0.1", AuthInfo: user, Namespace: "dev"},
		"prod":      {Cluster: "10.10.70.12", AuthInfo: "wcp:10.10.70.12:" + testUser, Namespace: "prod"},
	})
	if cfg.CurrentContext != "127.0.0.1" {
		t.Errorf("current-context = %q, want the Supervisor's 127.0.0.1", cfg.CurrentContext)
	}
	assertOthersSurvive(t, existing, cfg)
	assertPrivateFile(t, env.kubeconfig)
	if !strings.Contains(r.stderr, testBanner) {
		t.Errorf("the login banner was not shown; stderr:\n%s", r.stderr)
	}
	if _, bodies, _ := sv.logins(); len(bodies) != 1 || bodies[0] != "{}" {
		t.Errorf("a Supervisor login posts {}; got %q", bodies)
	}
}

func TestLoginCreatesTheKubeconfigAndItsDirectory(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)

	mustSucceed(t, env.run("login", "--server", sv.URL, "-u", testUser, "--insecure-skip-tls-verify"))

	assertPrivateFile(t, env.kubeconfig)
	if cfg := env.loadKubeconfig(t); len(cfg.Contexts) != 3 {
		t.Errorf("want 3 contexts, got %d", len(cfg.Contexts))
	}
}

func TestGuestLogin(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)

	r := env.run("login", "--server", sv.URL, "--vsphere-username", testUser, "--insecure-skip-tls-verify",
		"--tanzu-kubernetes-cluster-namespace", "dev", "--tanzu-kubernetes-cluster-name", "tkc01")
	mustSucceed(t, r)

	_, bodies, tokens := sv.logins()
	if len(bodies) != 2 || bodies[0] != "{}" || bodies[1] != `{"guest_cluster_name":"tkc01","guest_cluster_namespace":"dev"}` {
		t.Errorf("login bodies = %q", bodies)
	}
	cfg := env.loadKubeconfig(t)
	guestUser := "wcp:10.10.80.5:" + testUser
	assertCluster(t, cfg, "10.10.80.5", &clientcmdapi.Cluster{Server: "https://10.10.80.5:6443", CertificateAuthorityData: []byte(testGuestCA)})
	assertUser(t, cfg, guestUser, &clientcmdapi.AuthInfo{Token: tokens[1]})
	assertContext(t, cfg, "tkc01", &clientcmdapi.Context{Cluster: "10.10.80.5", AuthInfo: guestUser})
	assertContext(t, cfg, "dev", &clientcmdapi.Context{Cluster: "127.0.0.1", AuthInfo: "wcp:127.0.0.1:" + testUser, Namespace: "dev"})
	if cfg.CurrentContext != "tkc01" {
		t.Errorf("current-context = %q, want tkc01", cfg.CurrentContext)
	}
	if !strings.Contains(r.stdout, "   127.0.0.1\n   dev\n   prod\n   tkc01\n") {
		t.Errorf("the guest cluster's context is not listed:\n%s", r.stdout)
	}
}

func TestGuestLoginByNameOnly(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)

	mustSucceed(t, env.run("login", "--server", sv.URL, "-u", testUser, "--insecure-skip-tls-verify",
		"--tanzu-kubernetes-cluster-name", "tkc01"))

	if _, bodies, _ := sv.logins(); bodies[1] != `{"guest_cluster_name":"tkc01"}` {
		t.Errorf("guest login body = %s, want the name only", bodies[1])
	}
}

func TestGuestLoginUnknownClusterWritesNothing(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)
	before := env.writeExisting(t)

	r := env.run("login", "--server", sv.URL, "-u", testUser, "--insecure-skip-tls-verify",
		"--tanzu-kubernetes-cluster-namespace", "dev", "--tanzu-kubernetes-cluster-name", "nope")

	if r.err == nil || !strings.Contains(r.err.Error(), "not found") {
		t.Errorf("err = %v, want a cluster-not-found error", r.err)
	}
	if !bytes.Equal(env.kubeconfigBytes(t), before) {
		t.Errorf("a failed guest login changed the kubeconfig")
	}
}

func TestLoginWrongPasswordWritesNothing(t *testing.T) {
	sv := newFakeSupervisor(t)
	for _, existing := range []bool{false, true} {
		env := newTestEnv(t)
		env.password = "wrong"
		var before []byte
		if existing {
			before = env.writeExisting(t)
		}

		r := env.run("login", "--server", sv.URL, "-u", testUser, "--insecure-skip-tls-verify")

		if r.err == nil || !strings.Contains(r.err.Error(), "invalid user name or password") {
			t.Errorf("err = %v, want an invalid-credentials error", r.err)
		}
		if strings.Contains(r.stdout, "Logged in") {
			t.Errorf("stdout claims success:\n%s", r.stdout)
		}
		if !bytes.Equal(env.kubeconfigBytes(t), before) {
			t.Errorf("a failed login changed the kubeconfig (existing: %v)", existing)
		}
		if r.err != nil && strings.Contains(r.err.Error(), "wrong") {
			t.Errorf("the error shows the password: %v", r.err)
		}
	}
}

func TestInteractivePrompts(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)
	env.password = ""
	env.stdin = "yes\n" + testUser + "\n" + testPassword + "\n"

	r := env.run("login", "--server", sv.URL)
	mustSucceed(t, r)

	// In this order: the certificate, the banner, the user name, the password.
	wantOrder := []string{
		"Do you want to trust it? (yes/no) ",
		testBanner,
		"Username: ",
		"KUBECTL_VSPHERE_PASSWORD environment variable is not set. Please enter the password below\n",
		"Password: ",
	}
	rest := r.stderr
	for _, want := range wantOrder {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("stderr lacks %q after the previous prompts:\n%s", want, r.stderr)
		}
		rest = rest[i+len(want):]
	}
	if r.stdout != wantSupervisorLoginOutput {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

func TestVerboseOutputHoldsNoSecrets(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)

	r := env.run("login", "-v", "10", "--server", sv.URL, "-u", testUser, "--insecure-skip-tls-verify",
		"--tanzu-kubernetes-cluster-name", "tkc01")
	mustSucceed(t, r)

	if !strings.Contains(r.stderr, "POST "+sv.URL+"/wcp/login 200 OK") {
		t.Errorf("-v 10 does not log the requests:\n%s", r.stderr)
	}
	_, _, tokens := sv.logins()
	secrets := append([]string{testPassword, base64Credentials(testUser, testPassword)}, tokens...)
	for _, secret := range secrets {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the output shows the secret %q", secret)
		}
	}
}

func TestRequestTimeout(t *testing.T) {
	sv := newFakeSupervisor(t)
	sv.hang.Store(true)
	env := newTestEnv(t)

	r := env.run("login", "--request-timeout", "100ms", "--server", sv.URL, "-u", testUser, "--insecure-skip-tls-verify")

	var netErr net.Error
	if !errors.As(r.err, &netErr) || !netErr.Timeout() {
		t.Errorf("err = %v, want a timeout", r.err)
	}
	if data := env.kubeconfigBytes(t); data != nil {
		t.Errorf("a timed-out login wrote a kubeconfig")
	}
}

func TestLoginFlagsAreVMwares(t *testing.T) {
	root := newRootCommand(commandEnv{})
	login, _, err := root.Find([]string{"login"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"server", "vsphere-username", "insecure-skip-tls-verify",
		"tanzu-kubernetes-cluster-name", "tanzu-kubernetes-cluster-namespace", "request-timeout", "verbose"} {
		if login.Flags().Lookup(name) == nil && login.InheritedFlags().Lookup(name) == nil {
			t.Errorf("login lacks --%s", name)
		}
	}
	if f := login.Flags().ShorthandLookup("u"); f == nil || f.Name != "vsphere-username" {
		t.Errorf("-u is not --vsphere-username")
	}
	if f := root.PersistentFlags().ShorthandLookup("v"); f == nil || f.Name != "verbose" {
		t.Errorf("-v is not --verbose")
	}
}

func TestVersion(t *testing.T) {
	r := newTestEnv(t).run("version")
	mustSucceed(t, r)
	if !strings.HasPrefix(r.stdout, "kubectl-vsphere: version ") {
		t.Errorf("stdout = %q", r.stdout)
	}
}
