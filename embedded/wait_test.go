package embedded

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// A start that hangs must say in its log what it waits for and why, and the
// error it returns when given up must name both.
func TestWaitSaysWhatItWaitsFor(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, prefix+" "+args)
	}, funcr.Options{})
	ctx, cancel := context.WithCancel(ctrl.LoggerInto(context.Background(), log))
	defer cancel()

	calls := 0
	err := pollLogged(ctx, "the thing", 0, func() error {
		calls++
		if calls == 3 {
			cancel()
		}
		return errors.New("2 of 3 parts")
	})
	if err == nil || !strings.Contains(err.Error(), "the thing") || !strings.Contains(err.Error(), "2 of 3 parts") {
		t.Fatalf("error %v, want one naming what was waited for and the last reason", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) == 0 || !strings.Contains(lines[0], `"msg"="Still waiting"`) || !strings.Contains(lines[0], `"for"="the thing"`) || !strings.Contains(lines[0], `"reason"="2 of 3 parts"`) {
		t.Fatalf("log %q, want a line saying what is waited for and why", lines)
	}
}

func TestWaitReturnsOnceTheCheckPasses(t *testing.T) {
	calls := 0
	if err := pollLogged(context.Background(), "the thing", time.Hour, func() error {
		if calls++; calls < 2 {
			return errors.New("not yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("checked %d times, want 2", calls)
	}
}
