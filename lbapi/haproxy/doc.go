// Package haproxy turns the VIPs lbapi serves into HAProxy configuration
// through the Data Plane API: a pure plan (desired proxies, deterministic
// names, a diff that never changes its inputs) and an applier that diffs it
// against what HAProxy holds and writes the difference in one versioned
// transaction, retrying on 409/406, isolating proxies HAProxy refuses.
// A commit counts as loaded only once HAProxy's running process shows it
// (stats/native and a commit marker, confirm.go), never on a reload's
// status alone; one it does not show in time is isolated like a refusal.
//
// It talks to HAProxy only through dataplane.API (dataplane/fake in unit
// tests). Only objects whose names carry Prefix are ever changed;
// everything else on the appliance is left alone. It knows nothing of
// Kubernetes objects: which Service owns a proxy is the controller's
// business.
package haproxy
