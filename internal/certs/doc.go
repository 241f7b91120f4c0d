// Package certs issues the supervisor's own certificates: a CA and server
// certificates signed by it, in PEM. It holds no state and writes no files
// except where a caller asks (WriteFiles).
package certs
