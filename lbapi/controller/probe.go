package controller

import (
	"context"
	"net"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

const (
	// probers bounds the VIP checks that run at once.
	probers = 16
	// probeEvery is the pause between two connection attempts to a VIP
	// that refused one (HAProxy may still be binding it).
	probeEvery = 50 * time.Millisecond
	// dialTimeout bounds one connection attempt.
	dialTimeout = 500 * time.Millisecond
)

type probeResult int

const (
	// probePending: the check runs; the prober wakes the sync when it ends.
	probePending probeResult = iota
	// probeAnswered: the VIP accepted a connection.
	probeAnswered
	// probeFailed: the VIP accepted none within the timeout.
	probeFailed
)

// prober checks that VIPs accept TCP connections, off the sync's worker:
// a sync asks for a result and gets "pending" at once, the check runs in
// its own goroutine, and its end wakes the sync, which then reads the
// result. So one VIP that does not answer costs the other Services
// nothing.
type prober struct {
	timeout time.Duration
	dial    func(ctx context.Context, addr string) error
	// wake asks for a sync; it must not block.
	wake  func()
	slots chan struct{}
	// running counts the checks whose goroutine has not ended.
	running sync.WaitGroup

	mu     sync.Mutex
	checks map[string]*check // service key -> its check
}

// check is one Service's VIP check.
type check struct {
	addr           string
	done, answered bool
}

// newProber returns a prober that gives each check timeout; dial is
// net.Dialer's when nil.
func newProber(timeout time.Duration, dial func(ctx context.Context, addr string) error, wake func()) *prober {
	if dial == nil {
		dial = dialTCP
	}
	return &prober{timeout: timeout, dial: dial, wake: wake, slots: make(chan struct{}, probers), checks: map[string]*check{}}
}

func dialTCP(ctx context.Context, addr string) error {
	c, err := (&net.Dialer{Timeout: dialTimeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// result is the check of key's VIP at addr: a finished one is handed out
// once (the next call starts a new check); none, or one of another
// address, starts one.
func (p *prober) result(ctx context.Context, key, addr string) probeResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.checks[key]
	switch {
	case ok && c.addr == addr && !c.done:
		return probePending
	case ok && c.addr == addr:
		delete(p.checks, key)
		if c.answered {
			return probeAnswered
		}
		return probeFailed
	}
	c = &check{addr: addr}
	p.checks[key] = c
	// The check outlives this sync, not the process: it ends by itself
	// within the timeout.
	p.running.Go(func() { p.run(context.WithoutCancel(ctx), key, c) })
	return probePending
}

// retain forgets the checks of Services not in keep: they were deleted,
// or no longer wait for their VIP.
func (p *prober) retain(keep map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for key := range p.checks {
		if !keep[key] {
			delete(p.checks, key)
		}
	}
}

// idle waits until no check runs (for tests).
func (p *prober) idle() { p.running.Wait() }

func (p *prober) run(ctx context.Context, key string, c *check) {
	p.slots <- struct{}{}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	err := wait.PollUntilContextCancel(ctx, probeEvery, true, func(ctx context.Context) (bool, error) {
		return p.dial(ctx, c.addr) == nil, nil
	})
	cancel()
	<-p.slots

	p.mu.Lock()
	current := p.checks[key] == c
	if current {
		c.done, c.answered = true, err == nil
	}
	p.mu.Unlock()
	if current {
		p.wake()
	}
}
