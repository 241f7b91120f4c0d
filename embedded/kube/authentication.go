package kube

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// authenticationConfig is kube-apiserver's structured authentication
// configuration file (--authentication-config). It starts with no JWT
// authenticator; TrustJWT rewrites it, and kube-apiserver reloads it
// without a restart, as it does on a real control plane.
type authenticationConfig struct {
	mu   sync.Mutex
	path string
}

func newAuthenticationConfig(env *envtest.Environment, dir string) (*authenticationConfig, error) {
	a := &authenticationConfig{path: filepath.Join(dir, "authentication-config.yaml")}
	if err := a.write(nil); err != nil {
		return nil, err
	}
	if env.ControlPlane.APIServer == nil {
		env.ControlPlane.APIServer = &envtest.APIServer{}
	}
	env.ControlPlane.APIServer.Configure().Set("authentication-config", a.path)
	return a, nil
}

// write replaces the file in one rename, so that kube-apiserver never
// reads half of it.
func (a *authenticationConfig) write(jwt []apiserverv1.JWTAuthenticator) error {
	cfg := apiserverv1.AuthenticationConfiguration{JWT: jwt}
	cfg.APIVersion, cfg.Kind = apiserverv1.SchemeGroupVersion.String(), "AuthenticationConfiguration"
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("failed to encode the authentication configuration: %w", err)
	}
	tmp := a.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("failed to write the authentication configuration: %w", err)
	}
	if err := os.Rename(tmp, a.path); err != nil {
		return fmt.Errorf("failed to write the authentication configuration: %w", err)
	}
	return nil
}

// TrustJWT makes kube-apiserver accept the JWTs of these authenticators
// (the supervisor's login tokens) in place of those trusted before.
// kube-apiserver reloads the configuration within seconds; client
// certificates and service-account tokens stay trusted.
func (e *Environment) TrustJWT(authenticators ...apiserverv1.JWTAuthenticator) error {
	e.authentication.mu.Lock()
	defer e.authentication.mu.Unlock()
	return e.authentication.write(authenticators)
}
