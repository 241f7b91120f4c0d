package chaos

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/open-supervisor/supervisor/test/harness"
)

// supervisorLog is the file every log line of the suite's supervisor
// (controller-runtime's, klog's and slog's, up to V(4)) goes to, so that
// the scenarios can look for secrets in what it wrote.
var supervisorLog string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "supervisor-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	supervisorLog = filepath.Join(dir, "supervisor.log")
	f, err := os.Create(supervisorLog)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Set before harness.Main, whose own SetLogger then changes nothing:
	// controller-runtime takes the first logger it is given.
	logger := zap.New(zap.WriteTo(f), zap.Level(zapcore.Level(-4)), func(o *zap.Options) { o.TimeEncoder = zapcore.RFC3339NanoTimeEncoder })
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	slog.SetDefault(slog.New(logr.ToSlogHandler(logger)))
	harness.Main(suite{m: m, dir: dir})
}

// suite runs the tests and then, in the full form, writes the results.
type suite struct {
	m   *testing.M
	dir string
}

func (s suite) Run() int {
	code := s.m.Run()
	if full() && results.any() {
		path, err := writeSection("chaos", results.markdown())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		} else {
			fmt.Fprintf(os.Stderr, "chaos results written to %s\n", path)
		}
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "the supervisor's log is kept in %s\n", supervisorLog)
	} else {
		_ = os.RemoveAll(s.dir)
	}
	return code
}
