// Package envtest starts a real kube-apiserver and etcd (the binaries
// `make tools` builds into bin/) with the project's CRDs and admission
// webhook configurations installed, for integration tests and for the
// embedded supervisor.
package envtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/open-supervisor/supervisor/config"
)

// Environment is a running kube-apiserver + etcd.
type Environment struct {
	*envtest.Environment
	// Config is an admin REST config.
	Config *rest.Config
}

// Start starts etcd and kube-apiserver from assetsDir ("" finds bin/ of the
// repository or beside the executable) and installs the CRDs.
func Start(assetsDir string) (*Environment, error) {
	if assetsDir == "" {
		var err error
		if assetsDir, err = FindAssets(); err != nil {
			return nil, err
		}
	}
	crds, err := config.CRDs()
	if err != nil {
		return nil, err
	}
	mutating, validating, err := config.Webhooks()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assetsDir,
		CRDs:                  crds,
		ErrorIfCRDPathMissing: true,
		// envtest points the configurations at a local port with a CA of its own.
		WebhookInstallOptions: envtest.WebhookInstallOptions{MutatingWebhooks: mutating, ValidatingWebhooks: validating},
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("failed to start kube-apiserver and etcd from %s: %w", assetsDir, err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	return &Environment{Environment: env, Config: cfg}, nil
}

// WebhookServer serves the webhooks where the API server was told to call
// them; a manager passes it as its WebhookServer.
func (e *Environment) WebhookServer() webhook.Server {
	o := e.WebhookInstallOptions
	return webhook.NewServer(webhook.Options{Host: o.LocalServingHost, Port: o.LocalServingPort, CertDir: o.LocalServingCertDir})
}

// FindAssets finds the directory holding kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS, the executable's directory, or bin/ of the repository
// this package was built from.
func FindAssets() (string, error) {
	var candidates []string
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		candidates = append(candidates, dir)
	}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Dir(exe))
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "..", "bin"))
	}
	for _, dir := range candidates {
		if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("kube-apiserver and etcd not found (looked in $KUBEBUILDER_ASSETS, beside the executable and in bin/); run `make tools`")
}
