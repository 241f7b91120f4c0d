// Package fake is an in-memory HAProxy Data Plane API for unit tests of
// code that programs HAProxy through dataplane.API (lbapi/haproxy's
// applier, lbapi's controller). It keeps the wire semantics those callers
// depend on: a configuration version that every commit moves on by one,
// transactions begun on a version (409 ErrConflict when it moved, 406
// ErrOutdated when it moved before the commit), a haproxy -c style check at
// commit (400 ErrInvalid, the version stays), reloads with IDs that succeed
// or fail, 404 ErrNotFound and 409 ErrConflict for missing and existing
// objects. It runs no HAProxy and serves no traffic; the appliance
// (lbapi/appliance) is the real thing for integration tests. Nothing
// outside tests may use it.
package fake
