// Package appliance is the HAProxy appliance of the embedded supervisor and
// the tests: a real HAProxy (Debian's, master-worker mode) and an HTTP
// endpoint that follows the HAProxy Data Plane API wire format, v3 or v2,
// for the calls lbapi makes (info, configuration version, transactions,
// frontends, binds, backends, servers, reloads, runtime stats), with the same status codes
// and version semantics, built on client-native's configuration package.
// The real Data Plane API server is not obtainable from our registries;
// production points lbapi at the real one on its appliance.
//
// Commits are checked with haproxy -c (a rejected one answers 400 and leaves
// the version alone). Reloads are coalesced: commits within one reload delay
// share one reload. HAProxy 2.6 cannot report a failed reload; by default
// (ReportLoadOutcome) each reload's outcome is read from the master CLI and
// served under /reloads. ReportSignalSent behaves as the real server with a
// signal reload command does: every reload is "succeeded", and a
// configuration HAProxy could not apply leaves the previous worker serving
// the previous configuration. The runtime endpoints (stats/native,
// runtime/info, runtime servers) read that running worker through its stats
// socket, in the real server's v2 and v3 shapes (runtime.go).
//
// It owns its directory (haproxy.cfg, sockets, logs, transactions) and the
// HAProxy process it starts; it must not touch any other HAProxy or
// configuration, and it knows nothing of Kubernetes or of lbapi's
// controller, which reaches it only over the wire like any Data Plane API.
package appliance
