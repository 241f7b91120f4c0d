package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// pluginRun is the outcome of one in-process run of the plugin.
type pluginRun struct {
	stdout, stderr string
	err            error
}

// testEnv is what a run of the plugin gets from its process.
type testEnv struct {
	kubeconfig string
	password   string // KUBECTL_VSPHERE_PASSWORD; empty for unset
	stdin      string
	// systemRoots are the CAs the "system" trusts; none when nil.
	systemRoots *x509.CertPool
}

func newTestEnv(t *testing.T) *testEnv {
	// A directory that does not exist yet: login creates it.
	return &testEnv{kubeconfig: filepath.Join(t.TempDir(), "home", ".kube", "config"), password: testPassword}
}

func (e *testEnv) run(args ...string) pluginRun {
	var stdout, stderr bytes.Buffer
	vars := map[string]string{"KUBECONFIG": e.kubeconfig, "HOME": filepath.Dir(e.kubeconfig)}
	if e.password != "" {
		vars[passwordEnv] = e.password
	}
	cmd := newRootCommand(commandEnv{
		In: strings.NewReader(e.stdin), Out: &stdout, ErrOut: &stderr,
		Getenv: func(key string) string { return vars[key] },
		SystemRoots: func() (*x509.CertPool, error) {
			if e.systemRoots == nil {
				return x509.NewCertPool(), nil
			}
			return e.systemRoots.Clone(), nil
		},
	})
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return pluginRun{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// writeExisting writes the user's kubeconfig from before any login and
// returns its bytes.
func (e *testEnv) writeExisting(t *testing.T) []byte {
	t.Helper()
	data, err := clientcmd.Write(*loadConfig(t, existingKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(e.kubeconfig), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.kubeconfig, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

func (e *testEnv) kubeconfigBytes(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(e.kubeconfig)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return data
}

func (e *testEnv) loadKubeconfig(t *testing.T) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(e.kubeconfig)
	if err != nil {
		t.Fatalf("failed to read the written kubeconfig: %v", err)
	}
	return cfg
}

func mustSucceed(t *testing.T, r pluginRun) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("the plugin failed: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
	}
}

func assertClusters(t *testing.T, cfg *clientcmdapi.Config, want map[string]*clientcmdapi.Cluster) {
	t.Helper()
	for name, c := range want {
		assertCluster(t, cfg, name, c)
	}
}

func assertCluster(t *testing.T, cfg *clientcmdapi.Config, name string, want *clientcmdapi.Cluster) {
	t.Helper()
	assertSameEntry(t, "cluster "+name, want, cfg.Clusters[name])
}

func assertUsers(t *testing.T, cfg *clientcmdapi.Config, want map[string]*clientcmdapi.AuthInfo) {
	t.Helper()
	for name, u := range want {
		assertUser(t, cfg, name, u)
	}
}

func assertUser(t *testing.T, cfg *clientcmdapi.Config, name string, want *clientcmdapi.AuthInfo) {
	t.Helper()
	assertSameEntry(t, "user "+name, want, cfg.AuthInfos[name])
}

func assertContexts(t *testing.T, cfg *clientcmdapi.Config, want map[string]*clientcmdapi.Context) {
	t.Helper()
	for name, c := range want {
		assertContext(t, cfg, name, c)
	}
}

func assertContext(t *testing.T, cfg *clientcmdapi.Config, name string, want *clientcmdapi.Context) {
	t.Helper()
	assertSameEntry(t, "context "+name, want, cfg.Contexts[name])
}

// assertOthersSurvive checks that every entry of the kubeconfig from before
// login is still there and unchanged (none of them has a login's name).
func assertOthersSurvive(t *testing.T, before, after *clientcmdapi.Config) {
	t.Helper()
	for name, c := range before.Clusters {
		assertSameEntry(t, "cluster "+name, c, after.Clusters[name])
	}
	for name, u := range before.AuthInfos {
		assertSameEntry(t, "user "+name, u, after.AuthInfos[name])
	}
	for name, c := range before.Contexts {
		if name != "dev" { // the namespace's context replaces the user's own
			assertSameEntry(t, "context "+name, c, after.Contexts[name])
		}
	}
	assertSameEntry(t, "preferences", before.Preferences, after.Preferences)
	for name, ext := range before.Extensions {
		assertSameEntry(t, "extension "+name, ext, after.Extensions[name])
	}
}

func assertPrivateFile(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s has mode %o, want 600", path, mode)
	}
}

func base64Credentials(user, password string) string {
	return strings.TrimSpace(encodeBase64(user + ":" + password))
}
