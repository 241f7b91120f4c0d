package main

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// existingKubeconfig is a user's kubeconfig before any login: entries of
// other tools, preferences and extensions, and a context "dev" whose name
// a vSphere Namespace also has.
const existingKubeconfig = `apiVersion: v1
kind: Config
preferences:
  extensions:
  - name: someones-preference
    extension: {color: blue}
extensions:
- name: someones-extension
  extension:
    keep: [1, 2]
    nested: {a: b}
clusters:
- name: kind-kind
  cluster:
    server: https://127.0.0.1:40000
    certificate-authority-data: ` + "Zm9v" + `
    extensions:
    - name: cluster-extension
      extension: {x: why}
- name: prod-cluster
  cluster: {server: "https://prod.example.com:6443", proxy-url: "http://proxy:3128"}
users:
- name: kind-kind
  user: {client-certificate-data: YmFy, client-key-data: YmF6}
- name: prod-admin
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token, args: [prod], interactiveMode: Never}
contexts:
- name: kind-kind
  context: {cluster: kind-kind, user: kind-kind}
- name: dev
  context: {cluster: prod-cluster, user: prod-admin, namespace: dev}
current-context: kind-kind
`

func loadConfig(t *testing.T, data string) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.Load([]byte(data))
	if err != nil {
		t.Fatalf("failed to load a kubeconfig: %v", err)
	}
	return cfg
}

func encodeConfig(t *testing.T, cfg *clientcmdapi.Config) string {
	t.Helper()
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatalf("failed to encode a kubeconfig: %v", err)
	}
	return string(data)
}

// throughFile encodes and decodes cfg, as between two runs of the plugin.
func throughFile(t *testing.T, cfg *clientcmdapi.Config) *clientcmdapi.Config {
	t.Helper()
	return loadConfig(t, encodeConfig(t, cfg))
}

func supervisorLogin(host, token string, namespaces ...string) loginEntries {
	var workloads []workload
	for _, ns := range namespaces {
		workloads = append(workloads, workload{Namespace: ns, MasterHost: host, APIServerPort: "6443"})
	}
	return entriesFor(loginResult{
		Host: host, Username: "administrator@vsphere.local", Token: token,
		TLS: clusterTLS{Insecure: true}, Workloads: workloads,
	})
}

func mustMerge(t *testing.T, cfg *clientcmdapi.Config, server string, e loginEntries) *clientcmdapi.Config {
	t.Helper()
	out, err := mergeLogin(cfg, server, e)
	if err != nil {
		t.Fatalf("mergeLogin(%s): %v", server, err)
	}
	return out
}

func mustRemove(t *testing.T, cfg *clientcmdapi.Config, server string) (*clientcmdapi.Config, logoutResult) {
	t.Helper()
	out, res, err := removeLogin(cfg, server)
	if err != nil {
		t.Fatalf("removeLogin(%s): %v", server, err)
	}
	return out, res
}

func TestMergeLoginKeepsOtherEntries(t *testing.T) {
	before := loadConfig(t, existingKubeconfig)
	snapshot := encodeConfig(t, before)

	after := throughFile(t, mustMerge(t, before, "10.10.70.11", supervisorLogin("10.10.70.11", "tok", "ns1")))

	if got := encodeConfig(t, before); got != snapshot {
		t.Errorf("mergeLogin modified its input:\n%s", got)
	}
	for _, name := range []string{"kind-kind", "prod-cluster"} {
		assertSameEntry(t, "cluster "+name, before.Clusters[name], after.Clusters[name])
	}
	for _, name := range []string{"kind-kind", "prod-admin"} {
		assertSameEntry(t, "user "+name, before.AuthInfos[name], after.AuthInfos[name])
	}
	assertSameEntry(t, "context kind-kind", before.Contexts["kind-kind"], after.Contexts["kind-kind"])
	assertSameEntry(t, "preferences", before.Preferences, after.Preferences)
	assertSameEntry(t, "extension", before.Extensions["someones-extension"], after.Extensions["someones-extension"])
	if after.Contexts["ns1"] == nil || after.Clusters["10.10.70.11"] == nil || after.AuthInfos["wcp:10.10.70.11:administrator@vsphere.local"] == nil {
		t.Errorf("the login's entries are missing:\n%s", encodeConfig(t, after))
	}
}

func assertSameEntry(t *testing.T, what string, want, got any) {
	t.Helper()
	wantDigest, _ := digestOf(want)
	gotDigest, _ := digestOf(got)
	if wantDigest != gotDigest {
		t.Errorf("%s changed: want %+v, got %+v", what, want, got)
	}
}

func TestMergeLoginTwiceIsIdempotent(t *testing.T) {
	before := loadConfig(t, existingKubeconfig)
	once := throughFile(t, mustMerge(t, before, "10.10.70.11", supervisorLogin("10.10.70.11", "first", "ns1", "dev")))
	twice := throughFile(t, mustMerge(t, once, "10.10.70.11", supervisorLogin("10.10.70.11", "second", "ns1", "dev")))

	// The second login only replaces the tokens.
	wantTwice := strings.ReplaceAll(encodeConfig(t, once), "token: first", "token: second")
	if got := encodeConfig(t, withoutLedger(twice)); got != encodeConfig(t, withoutLedger(loadConfig(t, wantTwice))) {
		t.Errorf("a second login changed more than the tokens:\n%s", got)
	}
	l, err := readLedger(twice)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Logins) != 1 {
		t.Errorf("want one login record, got %d", len(l.Logins))
	}
	// The record still knows the entries the first login replaced.
	restored, _ := mustRemove(t, twice, "10.10.70.11")
	if got, want := encodeConfig(t, restored), encodeConfig(t, before); got != want {
		t.Errorf("logout after two logins did not restore the kubeconfig:\n got: %s\nwant: %s", got, want)
	}
}

func withoutLedger(cfg *clientcmdapi.Config) *clientcmdapi.Config {
	out := cfg.DeepCopy()
	delete(out.Extensions, ledgerExtension)
	return out
}

func TestRemoveLoginRestoresTheKubeconfig(t *testing.T) {
	guest := entriesFor(loginResult{
		Host: "10.10.70.11", Username: "devops@vsphere.local", Token: "sv-token",
		Workloads: []workload{{Namespace: "dev", MasterHost: "10.10.70.11", APIServerPort: "6443"}},
		GuestName: "tkc01", Guest: guestSession{Token: "guest-token", Server: "10.10.80.5", CAData: []byte("ca")},
	})
	cases := []struct {
		name     string
		existing string
		login    loginEntries
	}{
		{"no kubeconfig yet", "", supervisorLogin("10.10.70.11", "tok", "ns1")},
		{"other entries only", existingKubeconfig, supervisorLogin("10.10.70.11", "tok", "ns1")},
		{"a namespace context replaces the user's", existingKubeconfig, supervisorLogin("10.10.70.11", "tok", "dev")},
		{"guest login", existingKubeconfig, guest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := loadConfig(t, tc.existing)
			loggedIn := throughFile(t, mustMerge(t, before, "10.10.70.11", tc.login))
			if loggedIn.CurrentContext != tc.login.CurrentContext {
				t.Errorf("current-context = %q, want %q", loggedIn.CurrentContext, tc.login.CurrentContext)
			}
			after, res := mustRemove(t, loggedIn, "10.10.70.11")
			if !res.LoggedIn || len(res.Kept) != 0 {
				t.Errorf("unexpected logout result %+v", res)
			}
			if got, want := encodeConfig(t, after), encodeConfig(t, before); got != want {
				t.Errorf("logout did not restore the kubeconfig:\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestRemoveLoginLeavesEntriesChangedSinceLogin(t *testing.T) {
	loggedIn := throughFile(t, mustMerge(t, loadConfig(t, ""), "10.10.70.11", supervisorLogin("10.10.70.11", "tok", "ns1", "ns2")))
	loggedIn.Contexts["ns1"].Namespace = "elsewhere" // kubectl config set-context ns1 --namespace=elsewhere

	after, res := mustRemove(t, loggedIn, "10.10.70.11")

	if want := []string{"context ns1"}; !reflect.DeepEqual(res.Kept, want) {
		t.Errorf("Kept = %v, want %v", res.Kept, want)
	}
	if ctx := after.Contexts["ns1"]; ctx == nil || ctx.Namespace != "elsewhere" {
		t.Errorf("the changed context was not left alone: %+v", ctx)
	}
	if after.Contexts["ns2"] != nil || after.Contexts["10.10.70.11"] != nil || len(after.AuthInfos) != 0 || len(after.Clusters) != 0 {
		t.Errorf("unchanged entries were not removed:\n%s", encodeConfig(t, after))
	}
	if after.Extensions[ledgerExtension] != nil {
		t.Errorf("the record of the login survived the logout")
	}
}

func TestLoginTakesOverAnotherSupervisorsEntry(t *testing.T) {
	before := loadConfig(t, existingKubeconfig)
	a := throughFile(t, mustMerge(t, before, "10.0.0.1", supervisorLogin("10.0.0.1", "a", "dev", "only-a")))
	ab := throughFile(t, mustMerge(t, a, "10.0.0.2", supervisorLogin("10.0.0.2", "b", "dev")))
	if got := ab.Contexts["dev"].Cluster; got != "10.0.0.2" {
		t.Fatalf("context dev points at %q, want the later login's 10.0.0.2", got)
	}

	afterA, _ := mustRemove(t, ab, "10.0.0.1")
	if got := afterA.Contexts["dev"]; got == nil || got.Cluster != "10.0.0.2" {
		t.Errorf("logging out of 10.0.0.1 touched the context dev that 10.0.0.2's login owns: %+v", got)
	}
	if afterA.Contexts["only-a"] != nil {
		t.Errorf("logging out of 10.0.0.1 left its context only-a")
	}
	afterBoth, _ := mustRemove(t, throughFile(t, afterA), "10.0.0.2")
	if got, want := encodeConfig(t, afterBoth), encodeConfig(t, before); got != want {
		t.Errorf("logging out of both did not restore the kubeconfig:\n got: %s\nwant: %s", got, want)
	}
}

func TestRemoveLoginCurrentContext(t *testing.T) {
	loggedIn := mustMerge(t, loadConfig(t, existingKubeconfig), "10.10.70.11", supervisorLogin("10.10.70.11", "tok", "ns1"))

	t.Run("a context of the login is current: the previous one is again", func(t *testing.T) {
		cfg := loggedIn.DeepCopy()
		cfg.CurrentContext = "ns1"
		after, _ := mustRemove(t, cfg, "10.10.70.11")
		if after.CurrentContext != "kind-kind" {
			t.Errorf("current-context = %q, want kind-kind", after.CurrentContext)
		}
	})
	t.Run("the user chose another context since: it stays", func(t *testing.T) {
		cfg := loggedIn.DeepCopy()
		cfg.CurrentContext = "dev"
		after, _ := mustRemove(t, cfg, "10.10.70.11")
		if after.CurrentContext != "dev" {
			t.Errorf("current-context = %q, want dev", after.CurrentContext)
		}
	})
	t.Run("the previous context is gone: none is current", func(t *testing.T) {
		cfg := loggedIn.DeepCopy()
		delete(cfg.Contexts, "kind-kind")
		after, _ := mustRemove(t, cfg, "10.10.70.11")
		if after.CurrentContext != "" {
			t.Errorf("current-context = %q, want none", after.CurrentContext)
		}
	})
	t.Run("a second login keeps the user's choice from before the first", func(t *testing.T) {
		again := mustMerge(t, loggedIn, "10.10.70.11", supervisorLogin("10.10.70.11", "tok2", "ns1"))
		after, _ := mustRemove(t, again, "10.10.70.11")
		if after.CurrentContext != "kind-kind" {
			t.Errorf("current-context = %q, want kind-kind", after.CurrentContext)
		}
	})
}

func TestRemoveLoginWithoutLogin(t *testing.T) {
	before := loadConfig(t, existingKubeconfig)
	after, res := mustRemove(t, before, "10.10.70.11")
	if res.LoggedIn {
		t.Errorf("LoggedIn = true for a kubeconfig without logins")
	}
	if got, want := encodeConfig(t, after), encodeConfig(t, before); got != want {
		t.Errorf("removeLogin changed a kubeconfig without logins:\n%s", got)
	}
}

func TestUnreadableLedgerIsAnError(t *testing.T) {
	cfg := loadConfig(t, "apiVersion: v1\nkind: Config\nextensions:\n- name: "+ledgerExtension+"\n  extension: {logins: 3}\n")
	if _, err := mergeLogin(cfg, "10.10.70.11", supervisorLogin("10.10.70.11", "tok")); err == nil || !strings.Contains(err.Error(), ledgerExtension) {
		t.Errorf("mergeLogin with an unreadable record: err = %v, want one naming the extension", err)
	}
}
