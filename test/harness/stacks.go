package harness

import (
	"bytes"
	"runtime/pprof"
	"strings"
)

// stackMarks name the code whose goroutines say what a manager that failed
// to stop within its grace period was still doing: ours, controller
// workers and vCenter calls.
var stackMarks = []string{
	"open-supervisor/supervisor/",
	"controller-runtime/pkg/internal/controller",
	"vmware/govmomi/",
}

// managerStacks returns the goroutine stacks, grouped as pprof does, that
// run code named by stackMarks, without the harness's and tests' own.
func managerStacks() string {
	var all bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&all, 1); err != nil {
		return err.Error()
	}
	var out strings.Builder
	for _, group := range strings.Split(all.String(), "\n\n") {
		if strings.Contains(group, "open-supervisor/supervisor/test/") {
			continue
		}
		for _, mark := range stackMarks {
			if strings.Contains(group, mark) {
				out.WriteString(group)
				out.WriteString("\n\n")
				break
			}
		}
	}
	return out.String()
}
