package tcpproxy

import (
	"bufio"
	"net"
	"testing"
)

// echo serves one line back per connection.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				line, _ := bufio.NewReader(c).ReadString('\n')
				_, _ = c.Write([]byte(line))
			}()
		}
	}()
	return ln.Addr().String()
}

func TestForwardsAndCloses(t *testing.T) {
	f, err := Listen("127.0.0.1:0", echo(t))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", f.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || line != "hello\n" {
		t.Fatalf("through the forwarder: %q, %v", line, err)
	}
	// A second line keeps the connection open until Close ends it.
	f.Close()
	if _, err := r.ReadString('\n'); err == nil {
		t.Error("a connection survived Close")
	}
	if c2, err := net.Dial("tcp", f.Addr()); err == nil {
		_ = c2.Close()
		t.Error("the forwarder still accepts after Close")
	}
}
