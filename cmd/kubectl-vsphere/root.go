package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// commandEnv is everything the commands take from their process, so that
// tests can run them in-process.
type commandEnv struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	Getenv func(string) string
	// SystemRoots returns the CAs trusted without asking the user.
	SystemRoots func() (*x509.CertPool, error)
}

// processEnv is the real process's environment.
func processEnv() commandEnv {
	return commandEnv{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		Getenv:      os.Getenv,
		SystemRoots: x509.SystemCertPool,
	}
}

// globalOptions are the flags every command takes.
type globalOptions struct {
	requestTimeout string
	verbosity      int
}

// newRootCommand builds `kubectl vsphere` and its subcommands.
func newRootCommand(env commandEnv) *cobra.Command {
	global := &globalOptions{}
	root := &cobra.Command{
		Use:   "kubectl-vsphere",
		Short: "Log in to vSphere Supervisors and their Tanzu Kubernetes clusters",
		Long: `kubectl vsphere logs in to a vSphere Supervisor with vCenter credentials and writes
contexts for its vSphere Namespaces and Tanzu Kubernetes clusters into your kubeconfig.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl vsphere"},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(env.In)
	root.SetOut(env.Out)
	root.SetErr(env.ErrOut)
	flags := root.PersistentFlags()
	flags.StringVar(&global.requestTimeout, "request-timeout", "", "Request timeout for HTTP client.")
	flags.IntVarP(&global.verbosity, "verbose", "v", 0, "Print verbose logging information.")
	root.AddCommand(
		newLoginCommand(env, global),
		newLogoutCommand(env, global),
		newVersionCommand(env),
	)
	return root
}

// verboseLog prints to the error stream what happens, when -v asks for it.
// It is never given a password or a token.
type verboseLog struct {
	w     io.Writer
	level int
}

func newVerboseLog(env commandEnv, global *globalOptions) verboseLog {
	return verboseLog{w: env.ErrOut, level: global.verbosity}
}

// V prints the message when the verbosity is at least level: 2 for the
// steps, 4 for details, 6 for every request.
func (l verboseLog) V(level int, format string, args ...any) {
	if l.level >= level {
		_, _ = fmt.Fprintf(l.w, format+"\n", args...)
	}
}
