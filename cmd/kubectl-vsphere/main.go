package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := newRootCommand(processEnv()).ExecuteContext(context.Background()); err != nil {
		_, _ = fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}
