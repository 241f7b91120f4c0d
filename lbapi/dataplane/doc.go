// Package dataplane is a client for the HAProxy Data Plane API, v3 and v2
// (detected from the server), for the calls lbapi makes: version,
// transactions, frontends, binds, backends, servers and reloads. Payloads
// are client-native's models, whose JSON is the API's. Basic auth; TLS
// verified against the configured CA unless explicitly insecure (see
// NewHTTPClient). Errors wrap sentinels callers branch on: ErrConflict,
// ErrOutdated, ErrNotFound, ErrInvalid, ErrUnauthorized.
//
// API is the narrow interface the applier (lbapi/haproxy) uses; Client
// implements it over HTTP and dataplane/fake in memory. The package only
// speaks the wire protocol: it decides nothing about what HAProxy should
// hold (that is lbapi/haproxy's) and never logs credentials.
package dataplane
