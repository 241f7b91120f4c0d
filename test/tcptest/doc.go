// Package tcptest gives load-balancer tests real TCP endpoints on loopback:
// a listener that answers every connection with a tag, a client that reads
// that tag back, and a free port number.
//
// Only _test.go files may import it.
package tcptest
