package kube

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/config"
)

// Environment is a running etcd, kube-apiserver and kube-controller-manager.
type Environment struct {
	*envtest.Environment
	// Config is an admin REST config.
	Config *rest.Config
	// controllerManager is nil until it started.
	controllerManager *controllerManager
	serving           *servingCert
	authentication    *authenticationConfig
}

// Options say where the binaries are and what to install.
type Options struct {
	// AssetsDir holds kube-apiserver, etcd and kube-controller-manager
	// ("" finds bin/ of the repository or beside the executable).
	AssetsDir string
	// StateDir receives kube-controller-manager's kubeconfig and log
	// (kube-controller-manager.log); "" puts them in a temporary directory
	// that Stop removes.
	StateDir string
	// ClusterAPI also installs Cluster API's CRDs and webhook configurations
	// (config.ClusterAPICRDs, ClusterAPIWebhooks). Every CRD then converts
	// through https://<WebhookOptions()>/convert, since Cluster API's types
	// do not implement controller-runtime's Convertible; a manager with
	// providers/clusterapi set up must serve there.
	ClusterAPI bool
}

// Start starts etcd, kube-apiserver and kube-controller-manager from
// assetsDir ("" finds bin/ of the repository or beside the executable) and
// installs the CRDs.
func Start(assetsDir string) (*Environment, error) {
	return StartWith(Options{AssetsDir: assetsDir})
}

// StartWith starts etcd and kube-apiserver, installs what o asks for, and
// starts kube-controller-manager once the CRDs are served, so that its
// garbage collector and namespace controller know every kind from the
// start. Stop stops all three.
func StartWith(o Options) (*Environment, error) {
	assetsDir := o.AssetsDir
	if assetsDir == "" {
		var err error
		if assetsDir, err = FindAssets(); err != nil {
			return nil, err
		}
	} else if missing := missingAssets(assetsDir); len(missing) > 0 {
		return nil, fmt.Errorf("%s not found in %s; run `make tools`", strings.Join(missing, ", "), assetsDir)
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
	if o.ClusterAPI {
		if err := addClusterAPI(env); err != nil {
			return nil, err
		}
	}
	serving, err := newServingCert(env, o.StateDir)
	if err != nil {
		return nil, err
	}
	authentication, err := newAuthenticationConfig(env, serving.dir)
	if err != nil {
		serving.cleanup()
		return nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		serving.cleanup()
		return nil, fmt.Errorf("failed to start kube-apiserver and etcd from %s: %w", assetsDir, err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	cm, err := startControllerManager(env, cfg, assetsDir, o.StateDir)
	if err != nil {
		_ = env.Stop()
		serving.cleanup()
		return nil, err
	}
	return &Environment{Environment: env, Config: cfg, controllerManager: cm, serving: serving, authentication: authentication}, nil
}

// Stop stops kube-controller-manager first, so that it does not act on a
// half-stopped API server or log its absence, then kube-apiserver and etcd.
func (e *Environment) Stop() error {
	var errs []error
	if e.controllerManager != nil {
		if err := e.controllerManager.stop(); err != nil {
			errs = append(errs, err)
		}
		e.controllerManager = nil
	}
	if err := e.Environment.Stop(); err != nil {
		errs = append(errs, err)
	}
	e.serving.cleanup()
	return errors.Join(errs...)
}

// ControllerManagerLog is the path of kube-controller-manager's log ("" if
// it is not running).
func (e *Environment) ControllerManagerLog() string {
	if e.controllerManager == nil {
		return ""
	}
	return e.controllerManager.logPath
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

// assets are the binaries StartWith runs, all built by `make tools`.
var assets = []string{"etcd", "kube-apiserver", controllerManagerBinary}

// missingAssets names the assets dir lacks.
func missingAssets(dir string) []string {
	var missing []string
	for _, name := range assets {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			missing = append(missing, name)
		}
	}
	return missing
}

// FindAssets finds the directory holding etcd, kube-apiserver and
// kube-controller-manager: $KUBEBUILDER_ASSETS, the executable's directory,
// or bin/ of the repository this package was built from.
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
		if len(missingAssets(dir)) == 0 {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%s not found together in any of %s ($KUBEBUILDER_ASSETS, beside the executable, bin/ of the repository); run `make tools`",
		strings.Join(assets, ", "), strings.Join(candidates, ", "))
}

// EtcdServers are the client URLs of the environment's etcd, for other
// API servers that keep their data there under a prefix of their own (the
// simulated guest clusters').
func (e *Environment) EtcdServers() []string {
	return []string{e.ControlPlane.Etcd.URL.String()}
}
