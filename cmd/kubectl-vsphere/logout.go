package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func newLogoutCommand(env commandEnv, global *globalOptions) *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Destroy the current session",
		Long: `Remove from your kubeconfig the clusters, users (with their tokens) and contexts that
kubectl vsphere login wrote: for every Supervisor logged in to, or only for --server.
Entries changed since login are left in place.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runLogout(env, global, server)
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "Log out of this Supervisor only (default: of all).")
	return cmd
}

func runLogout(env commandEnv, global *globalOptions, server string) error {
	log := newVerboseLog(env, global)
	path, err := kubeconfigPath(env.Getenv)
	if err != nil {
		return err
	}
	var host string
	if server != "" {
		endpoint, err := parseServerAddress(server)
		if err != nil {
			return err
		}
		host = endpoint.Host
	}
	var results []serverLogout
	err = updateKubeconfig(path, func(cfg *clientcmdapi.Config) (*clientcmdapi.Config, error) {
		updated, res, err := logoutOf(cfg, host)
		results = res
		return updated, err
	})
	if err != nil {
		return fmt.Errorf("failed to log out: %w", err)
	}
	log.V(2, "Updated %s", path)
	printLogout(env, host, results)
	return nil
}

// serverLogout is what logging out of one Supervisor did.
type serverLogout struct {
	server string
	logoutResult
}

// logoutOf removes the logins to host, or to every Supervisor when host is
// empty. It returns nil (no change) when there is nothing to log out of.
func logoutOf(cfg *clientcmdapi.Config, host string) (*clientcmdapi.Config, []serverLogout, error) {
	servers := []string{host}
	if host == "" {
		var err error
		if servers, err = loggedInServers(cfg); err != nil {
			return nil, nil, err
		}
	}
	var results []serverLogout
	for _, server := range servers {
		updated, res, err := removeLogin(cfg, server)
		if err != nil {
			return nil, nil, err
		}
		if res.LoggedIn {
			cfg = updated
			results = append(results, serverLogout{server: server, logoutResult: res})
		}
	}
	if len(results) == 0 {
		return nil, nil, nil
	}
	return cfg, results, nil
}

func printLogout(env commandEnv, host string, results []serverLogout) {
	if len(results) == 0 {
		if host != "" {
			_, _ = fmt.Fprintf(env.Out, "Not logged in to %s.\n", host)
		} else {
			_, _ = fmt.Fprintln(env.Out, "Not logged in to any vSphere Supervisor.")
		}
		return
	}
	for _, r := range results {
		_, _ = fmt.Fprintf(env.Out, "Logged out of %s.\n", r.server)
		if len(r.Kept) > 0 {
			_, _ = fmt.Fprintf(env.ErrOut, "Left in your kubeconfig, as they changed since login: %s.\n", strings.Join(r.Kept, ", "))
		}
	}
}
