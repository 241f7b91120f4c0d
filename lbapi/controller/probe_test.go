package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// gatedDial answers per address: open addresses at once, gated ones when
// the test opens their gate, the rest never.
type gatedDial struct {
	mu    sync.Mutex
	open  map[string]bool
	gates map[string]chan struct{}
	// returned gets the address of every dial that returned.
	returned chan string
}

func newGatedDial() *gatedDial {
	return &gatedDial{open: map[string]bool{}, gates: map[string]chan struct{}{}, returned: make(chan string, 100)}
}

func (g *gatedDial) gate(addr string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch := make(chan struct{})
	g.gates[addr] = ch
	return ch
}

func (g *gatedDial) dial(ctx context.Context, addr string) error {
	defer func() { g.returned <- addr }()
	g.mu.Lock()
	open, gate := g.open[addr], g.gates[addr]
	g.mu.Unlock()
	switch {
	case open:
		return nil
	case gate != nil:
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.New("connection refused")
}

func newTestProber(timeout time.Duration, g *gatedDial) (*prober, chan struct{}) {
	woken := make(chan struct{}, 100)
	return newProber(timeout, g.dial, func() { woken <- struct{}{} }), woken
}

// A VIP that does not answer holds up no one: asking returns at once, and
// the others' results arrive while its check still runs.
func TestProberDoesNotHoldTheCaller(t *testing.T) {
	ctx := context.Background()
	g := newGatedDial()
	slow := g.gate("127.30.0.1:80")
	g.open["127.30.0.2:80"] = true
	p, woken := newTestProber(time.Hour, g)

	if r := p.result(ctx, "slow", "127.30.0.1:80"); r != probePending {
		t.Fatalf("want pending, got %v", r)
	}
	if r := p.result(ctx, "fast", "127.30.0.2:80"); r != probePending {
		t.Fatalf("want pending, got %v", r)
	}
	<-woken // the fast check finished
	if r := p.result(ctx, "fast", "127.30.0.2:80"); r != probeAnswered {
		t.Fatalf("want the fast VIP answered, got %v", r)
	}
	if r := p.result(ctx, "slow", "127.30.0.1:80"); r != probePending {
		t.Fatalf("want the slow VIP still pending, got %v", r)
	}

	close(slow)
	<-woken
	if r := p.result(ctx, "slow", "127.30.0.1:80"); r != probeAnswered {
		t.Fatalf("want the slow VIP answered once it answers, got %v", r)
	}
	// A result is handed out once; asking again checks again.
	if r := p.result(ctx, "slow", "127.30.0.1:80"); r != probePending {
		t.Fatalf("want a new check, got %v", r)
	}
}

func TestProberGivesUpAfterTheTimeout(t *testing.T) {
	ctx := context.Background()
	g := newGatedDial()
	p, woken := newTestProber(100*time.Millisecond, g)
	if r := p.result(ctx, "svc", "127.30.0.9:80"); r != probePending {
		t.Fatalf("want pending, got %v", r)
	}
	<-woken
	if r := p.result(ctx, "svc", "127.30.0.9:80"); r != probeFailed {
		t.Fatalf("want failed, got %v", r)
	}
}

// A check of an address the Service no longer has, or of a Service that
// no longer waits, neither answers for it nor wakes the sync.
func TestProberForgetsWhatIsNoLongerAsked(t *testing.T) {
	ctx := context.Background()
	g := newGatedDial()
	old := g.gate("127.30.0.1:80")
	p, woken := newTestProber(time.Hour, g)

	p.result(ctx, "svc", "127.30.0.1:80")
	newGate := g.gate("127.30.0.5:80")
	if r := p.result(ctx, "svc", "127.30.0.5:80"); r != probePending {
		t.Fatalf("a new address starts a new check, got %v", r)
	}
	close(old)
	for addr := <-g.returned; addr != "127.30.0.1:80"; addr = <-g.returned {
	}
	if r := p.result(ctx, "svc", "127.30.0.5:80"); r != probePending {
		t.Fatalf("the old address's answer must not count for the new one, got %v", r)
	}

	p.retain(map[string]bool{})
	close(newGate)
	p.idle()
	if len(woken) != 0 {
		t.Fatalf("superseded and forgotten checks woke the sync %d times", len(woken))
	}
	if r := p.result(ctx, "svc", "127.30.0.5:80"); r != probePending {
		t.Fatalf("a forgotten check's answer must not be handed out, got %v", r)
	}
}
