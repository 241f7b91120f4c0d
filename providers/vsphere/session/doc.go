// Package session keeps one authenticated vCenter session per (vCenter, user)
// for the whole process. A session that vCenter stops honouring (idle expiry,
// an admin terminating it, a vCenter restart) is logged in again on the next
// call that fails with NotAuthenticated, and that call is retried once, so
// callers never see a stale session. TLS is verified against a CA bundle or a
// pinned thumbprint unless Insecure is set. Passwords never reach a log line:
// only URLs without user info are logged or returned in errors. It also
// counts the calls made through it (Stats), which the benchmarks report.
//
// It owns logging in and out and nothing else: it finds no inventory
// objects, keeps no VM state and knows nothing of Kubernetes objects.
package session
