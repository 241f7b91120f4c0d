package main

import (
	"fmt"
	"io"
	"strings"
)

// printLoginSuccess prints VMware's plugin's success text word for word:
// scripts and users look for it.
func printLoginSuccess(w io.Writer, contexts []string) error {
	var b strings.Builder
	b.WriteString("Logged in successfully.\n\n")
	b.WriteString("You have access to the following contexts:\n")
	for _, name := range contexts {
		b.WriteString("   " + name + "\n")
	}
	b.WriteString("\nIf the context you wish to use is not in this list, you may need to try\n")
	b.WriteString("logging in again later, or contact your cluster administrator.\n\n")
	b.WriteString("To change context, use `kubectl config use-context <workload name>`\n")
	_, err := fmt.Fprint(w, b.String())
	return err
}
