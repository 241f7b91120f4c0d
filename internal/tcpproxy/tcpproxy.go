package tcpproxy

import (
	"io"
	"net"
	"sync"
)

// Forwarder accepts connections on one address and copies each, both ways,
// to a new connection to its target.
type Forwarder struct {
	target string
	ln     net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

// Listen starts forwarding addr ("host:port", port 0 picks one) to target.
func Listen(addr, target string) (*Forwarder, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	f := &Forwarder{target: target, ln: ln, conns: map[net.Conn]bool{}}
	go f.serve()
	return f, nil
}

// Addr is where the forwarder listens.
func (f *Forwarder) Addr() string { return f.ln.Addr().String() }

func (f *Forwarder) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.forward(c)
	}
}

func (f *Forwarder) forward(c net.Conn) {
	up, err := net.Dial("tcp", f.target)
	if err != nil {
		_ = c.Close()
		return
	}
	if !f.track(c, up) {
		_ = c.Close()
		_ = up.Close()
		return
	}
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
	f.mu.Lock()
	delete(f.conns, c)
	delete(f.conns, up)
	f.mu.Unlock()
}

// track records a connection pair; false once the forwarder is closed.
func (f *Forwarder) track(c, up net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c], f.conns[up] = true, true
	return true
}

// Close stops listening and closes every connection through the forwarder.
func (f *Forwarder) Close() {
	_ = f.ln.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for c := range f.conns {
		_ = c.Close()
	}
	f.conns = map[net.Conn]bool{}
}
