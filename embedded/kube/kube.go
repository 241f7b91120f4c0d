// Package kube starts a real kube-apiserver and etcd (the binaries
// `make tools` builds into bin/) with the project's CRDs and admission
// webhook configurations installed, for integration tests and for the
// embedded supervisor; on request also Cluster API's CRDs and webhooks. The
// caller's manager serves the webhooks (WebhookOptions).
package kube

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/config"
)

// Environment is a running kube-apiserver + etcd.
type Environment struct {
	*envtest.Environment
	// Config is an admin REST config.
	Config *rest.Config
}

// Options say where the binaries are and what to install.
type Options struct {
	// AssetsDir holds kube-apiserver and etcd ("" finds bin/ of the
	// repository or beside the executable).
	AssetsDir string
	// ClusterAPI also installs Cluster API's CRDs and webhook configurations
	// (config.ClusterAPICRDs, ClusterAPIWebhooks). Every CRD then converts
	// through https://<WebhookOptions()>/convert, since Cluster API's types
	// do not implement controller-runtime's Convertible; a manager with
	// providers/clusterapi set up must serve there.
	ClusterAPI bool
}

// Start starts etcd and kube-apiserver from assetsDir ("" finds bin/ of the
// repository or beside the executable) and installs the CRDs.
func Start(assetsDir string) (*Environment, error) {
	return StartWith(Options{AssetsDir: assetsDir})
}

// StartWith starts etcd and kube-apiserver and installs what o asks for.
func StartWith(o Options) (*Environment, error) {
	assetsDir := o.AssetsDir
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
		// Conversion webhooks for the scheme's convertible kinds
		// (TanzuKubernetesClusters) go to the manager's /convert.
		Scheme: api.NewScheme(),
		// envtest points the configurations at a local port with a CA of its own.
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			LocalServingHost: "127.0.0.1", MutatingWebhooks: mutating, ValidatingWebhooks: validating,
		},
	}
	// No controller manager runs here, so nothing would lift the
	// kubernetes.io/pvc-protection finalizer this admission plugin puts on
	// every claim: a deleted claim would stay Terminating for ever.
	env.ControlPlane.GetAPIServer().Configure().Append("disable-admission-plugins", "StorageObjectInUseProtection")
	if o.ClusterAPI {
		if err := addClusterAPI(env); err != nil {
			return nil, err
		}
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("failed to start kube-apiserver and etcd from %s: %w", assetsDir, err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	return &Environment{Environment: env, Config: cfg}, nil
}

// addClusterAPI adds Cluster API's CRDs and webhook configurations to env.
func addClusterAPI(env *envtest.Environment) error {
	crds, err := config.ClusterAPICRDs()
	if err != nil {
		return err
	}
	env.CRDs = append(env.CRDs, crds...)
	mutating, validating, err := config.ClusterAPIWebhooks()
	if err != nil {
		return err
	}
	w := &env.WebhookInstallOptions
	w.MutatingWebhooks = append(w.MutatingWebhooks, mutating...)
	w.ValidatingWebhooks = append(w.ValidatingWebhooks, validating...)
	// Without it envtest strips conversion from every CRD whose type is
	// not scheme-Convertible, which is all of Cluster API's.
	w.IgnoreSchemeConvertible = true
	return nil
}

// WebhookOptions returns where the API server calls webhooks and where the
// serving certificate is: the options of the manager's webhook server.
func (e *Environment) WebhookOptions() webhook.Options {
	w := e.WebhookInstallOptions
	return webhook.Options{Host: w.LocalServingHost, Port: w.LocalServingPort, CertDir: w.LocalServingCertDir}
}

// WebhookServer is a webhook server with WebhookOptions; a manager passes
// it as its WebhookServer.
func (e *Environment) WebhookServer() webhook.Server {
	return webhook.NewServer(e.WebhookOptions())
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
