package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// passwordEnv holds the password for unattended logins, as with VMware's
// plugin.
const passwordEnv = "KUBECTL_VSPHERE_PASSWORD"

// errNotTrusted: the user declined the server's certificate.
var errNotTrusted = errors.New("the Supervisor's certificate was not trusted, nothing was written; " +
	"install the Supervisor's CA (vCenter's root CA) on this computer, or log in with --insecure-skip-tls-verify")

// loginOptions are the flags of VMware's `kubectl vsphere login`.
type loginOptions struct {
	server         string
	username       string
	insecure       bool
	guestName      string
	guestNamespace string
}

func newLoginCommand(env commandEnv, global *globalOptions) *cobra.Command {
	o := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Authenticate user with vCenter Namespaces",
		Long: `Log in to a vSphere Supervisor, and optionally to one of its Tanzu Kubernetes clusters,
and write a context per vSphere Namespace (and one for the cluster) into your kubeconfig.
The password is read from the ` + passwordEnv + ` environment variable, or asked for.`,
		Example: `  kubectl vsphere login --server=10.10.70.11 --vsphere-username administrator@vsphere.local
  kubectl vsphere login --server=10.10.70.11 -u devops@vsphere.local \
      --tanzu-kubernetes-cluster-namespace=dev --tanzu-kubernetes-cluster-name=tkc01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogin(cmd.Context(), env, global, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "Address of the server to authenticate against.")
	f.StringVarP(&o.username, "vsphere-username", "u", "", "Username to authenticate.")
	f.BoolVar(&o.insecure, "insecure-skip-tls-verify", false, "Skip certificate verification (this is insecure).")
	f.StringVar(&o.guestName, "tanzu-kubernetes-cluster-name", "", "Name of the Tanzu Kubernetes cluster to login to.")
	f.StringVar(&o.guestNamespace, "tanzu-kubernetes-cluster-namespace", "", "Namespace in which the Tanzu Kubernetes cluster resides.")
	return cmd
}

// loginRun is one run of `kubectl vsphere login`.
type loginRun struct {
	opts     *loginOptions
	env      commandEnv
	log      verboseLog
	prompt   *prompter
	endpoint supervisorEndpoint
	timeout  time.Duration
	// trust and client change when the user trusts a new certificate.
	trust  serverTrust
	client *wcpClient
}

func runLogin(ctx context.Context, env commandEnv, global *globalOptions, o *loginOptions) error {
	if o.guestNamespace != "" && o.guestName == "" {
		return errors.New("--tanzu-kubernetes-cluster-namespace needs --tanzu-kubernetes-cluster-name")
	}
	endpoint, err := parseServerAddress(o.server)
	if err != nil {
		return err
	}
	timeout, err := parseRequestTimeout(global.requestTimeout)
	if err != nil {
		return err
	}
	path, err := kubeconfigPath(env.Getenv)
	if err != nil {
		return err
	}
	r := &loginRun{
		opts: o, env: env, log: newVerboseLog(env, global),
		prompt: newPrompter(env.In, env.ErrOut), endpoint: endpoint, timeout: timeout,
	}
	if r.trust, err = initialTrust(o.insecure, env.SystemRoots, path, endpoint.Host); err != nil {
		return err
	}
	defer func() { r.client.close() }() // the client changes during the run
	return r.run(ctx, path)
}

func (r *loginRun) run(ctx context.Context, path string) error {
	caData, err := r.connect(ctx)
	if err != nil {
		return err
	}
	creds, err := r.credentials()
	if err != nil {
		return err
	}
	result, err := r.authenticate(ctx, creds)
	if err != nil {
		return err
	}
	result.TLS = clusterTLS{Insecure: r.opts.insecure, CAData: caData}
	entries := entriesFor(result)
	err = updateKubeconfig(path, func(cfg *clientcmdapi.Config) (*clientcmdapi.Config, error) {
		return mergeLogin(cfg, r.endpoint.Host, entries)
	})
	if err != nil {
		return fmt.Errorf("logged in, but failed to update the kubeconfig: %w", err)
	}
	r.log.V(2, "Wrote %d contexts to %s", len(entries.Contexts), path)
	return printLoginSuccess(r.env.Out, entries.contextNames())
}

// initialTrust is the trust before any question: the system's roots, plus
// the CA an earlier login stored for this Supervisor's cluster.
func initialTrust(insecure bool, systemRoots func() (*x509.CertPool, error), path, host string) (serverTrust, error) {
	trust := serverTrust{Insecure: insecure, SystemRoots: systemRoots}
	if insecure {
		return trust, nil
	}
	cfg, err := loadKubeconfig(path)
	if err != nil {
		return trust, err
	}
	if cluster := cfg.Clusters[host]; cluster != nil && len(parseCertificates(cluster.CertificateAuthorityData)) > 0 {
		trust.TrustedPEM = cluster.CertificateAuthorityData
	}
	return trust, nil
}

// connect makes first contact by fetching the login banner, and prints it.
// A certificate from an unknown authority is shown to the user, who may
// trust it. It returns the CA data the kubeconfig's clusters need.
func (r *loginRun) connect(ctx context.Context) ([]byte, error) {
	banner, state, err := r.fetchBanner(ctx)
	if cert := unknownAuthorityCertificate(err); cert != nil {
		trusted, askErr := askToTrust(r.prompt, r.endpoint.Host, cert)
		if askErr != nil {
			return nil, askErr
		}
		if !trusted {
			return nil, errNotTrusted
		}
		r.trust.TrustedPEM = encodePEM(cert)
		banner, state, err = r.fetchBanner(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to reach the Supervisor at %s: %w", r.endpoint.BaseURL, err)
	}
	if banner != "" {
		_, _ = fmt.Fprintf(r.env.ErrOut, "%s\n\n", printableBanner(banner))
	}
	return r.trust.caDataToStore(state), nil
}

// fetchBanner fetches the banner with a client for the current trust.
func (r *loginRun) fetchBanner(ctx context.Context) (string, *tls.ConnectionState, error) {
	tlsConfig, err := r.trust.tlsConfig()
	if err != nil {
		return "", nil, err
	}
	r.client.close()
	r.client = newWCPClient(r.endpoint.BaseURL, tlsConfig, r.timeout, r.log)
	r.log.V(2, "Connecting to %s", r.endpoint.BaseURL)
	return r.client.LoginBanner(ctx)
}

// credentials are the user name from the flag or asked for, and the
// password from the environment or asked for without echo.
func (r *loginRun) credentials() (credentials, error) {
	username := strings.TrimSpace(r.opts.username)
	if username == "" {
		answer, err := r.prompt.line("Username: ")
		if err != nil {
			return credentials{}, fmt.Errorf("failed to read the user name: %w", err)
		}
		if username = strings.TrimSpace(answer); username == "" {
			return credentials{}, errors.New("a user name is required (--vsphere-username)")
		}
	}
	password := r.env.Getenv(passwordEnv)
	if password == "" {
		_, _ = fmt.Fprintln(r.prompt.out, passwordEnv+" environment variable is not set. Please enter the password below")
		answer, err := r.prompt.secret("Password: ")
		if err != nil {
			return credentials{}, fmt.Errorf("failed to read the password: %w", err)
		}
		password = answer
	}
	return credentials{Username: username, Password: password}, nil
}

// authenticate logs in to the Supervisor, lists its namespaces and, if
// asked, logs in to the guest cluster.
func (r *loginRun) authenticate(ctx context.Context, creds credentials) (loginResult, error) {
	r.log.V(2, "Logging in to %s as %s", r.endpoint.Host, creds.Username)
	token, err := r.client.Login(ctx, creds)
	if err != nil {
		return loginResult{}, r.loginError(creds, err)
	}
	workloads, err := r.client.Workloads(ctx, creds)
	if err != nil {
		return loginResult{}, fmt.Errorf("logged in to %s, but failed to list the vSphere Namespaces: %w", r.endpoint.Host, err)
	}
	result := loginResult{Host: r.endpoint.Host, Username: creds.Username, Token: token, Workloads: workloads}
	if r.opts.guestName == "" {
		return result, nil
	}
	r.log.V(2, "Logging in to the Tanzu Kubernetes cluster %s", r.guestDescription())
	guest, err := r.client.GuestLogin(ctx, creds, r.opts.guestName, r.opts.guestNamespace)
	if err != nil {
		return loginResult{}, fmt.Errorf("failed to log in to the Tanzu Kubernetes cluster %s: %w", r.guestDescription(), err)
	}
	result.GuestName, result.Guest = r.opts.guestName, guest
	return result, nil
}

// loginError explains a failed login; refused credentials get a message
// of their own, the commonest case.
func (r *loginRun) loginError(creds credentials, err error) error {
	var status *statusError
	if errors.As(err, &status) && status.StatusCode == http.StatusUnauthorized {
		reason := "invalid user name or password"
		if status.Message != "" {
			reason += " (the server said: " + status.Message + ")"
		}
		return fmt.Errorf("failed to log in to %s as %s: %s", r.endpoint.Host, creds.Username, reason)
	}
	return fmt.Errorf("failed to log in to %s as %s: %w", r.endpoint.Host, creds.Username, err)
}

func (r *loginRun) guestDescription() string {
	if r.opts.guestNamespace == "" {
		return fmt.Sprintf("%q", r.opts.guestName)
	}
	return fmt.Sprintf("%q in namespace %q", r.opts.guestName, r.opts.guestNamespace)
}

// printableBanner drops the control characters of the banner but its
// line breaks and tabs, so that it cannot drive the terminal.
func printableBanner(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || (r >= ' ' && r != 0x7f) {
			return r
		}
		return -1
	}, s)
}
