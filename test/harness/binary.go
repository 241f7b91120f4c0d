package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/open-supervisor/supervisor/test/tb"
)

// SupervisorBinary is $SUPERVISOR_BINARY, or the repository's main package
// built into t's temporary directory: for tests that run the supervisor as
// a user does, in a process of its own.
func SupervisorBinary(t tb.TB) string {
	t.Helper()
	if b := os.Getenv("SUPERVISOR_BINARY"); b != "" {
		return b
	}
	_, self, _, _ := runtime.Caller(0)
	out := filepath.Join(t.TempDir(), "supervisor")
	build := exec.Command("go", "build", "-o", out, ".")
	build.Dir = filepath.Join(filepath.Dir(self), "..", "..")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}
