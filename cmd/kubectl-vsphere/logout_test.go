package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"testing"
)

func TestLogoutRestoresTheKubeconfig(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)
	before := env.writeExisting(t)
	mustSucceed(t, env.run("login", "--server", sv.URL, "-u", testUser, "--insecure-skip-tls-verify"))
	mustSucceed(t, env.run("login", "--server", sv.URL, "-u", testUser, "--insecure-skip-tls-verify",
		"--tanzu-kubernetes-cluster-namespace", "dev", "--tanzu-kubernetes-cluster-name", "tkc01"))

	r := env.run("logout")
	mustSucceed(t, r)

	if r.stdout != "Logged out of 127.0.0.1.\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
	if after := env.kubeconfigBytes(t); !bytes.Equal(after, before) {
		t.Errorf("logout did not restore the kubeconfig:\n got: %s\nwant: %s", after, before)
	}
	if _, err := os.Stat(env.kubeconfig + ".lock"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the lock file was left behind: %v", err)
	}

	again := env.run("logout")
	mustSucceed(t, again)
	if again.stdout != "Not logged in to any vSphere Supervisor.\n" {
		t.Errorf("second logout: stdout = %q", again.stdout)
	}
}

func TestLogoutOfOneServer(t *testing.T) {
	sv := newFakeSupervisor(t)
	env := newTestEnv(t)
	mustSucceed(t, env.run("login", "--server", sv.URL, "-u", testUser, "--insecure-skip-tls-verify"))

	other := env.run("logout", "--server", "10.9.9.9")
	mustSucceed(t, other)
	if other.stdout != "Not logged in to 10.9.9.9.\n" || len(env.loadKubeconfig(t).Contexts) != 3 {
		t.Errorf("logging out of another server: stdout %q", other.stdout)
	}

	mustSucceed(t, env.run("logout", "--server", sv.URL))
	cfg := env.loadKubeconfig(t)
	if len(cfg.Contexts)+len(cfg.Clusters)+len(cfg.AuthInfos)+len(cfg.Extensions) != 0 || cfg.CurrentContext != "" {
		t.Errorf("logout left entries:\n%s", encodeConfig(t, cfg))
	}
}
