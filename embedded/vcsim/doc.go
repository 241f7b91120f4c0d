// Package vcsim starts an in-process vCenter simulator (govmomi's vcsim) with
// the inventory the supervisor expects of a vSphere with Tanzu cluster: one
// datacenter, one cluster of three hosts, a datastore, a distributed switch
// with "management" and "workload" portgroups, and a content library holding
// a node image per shipped Kubernetes release. Every Start builds a new
// model, so tests share no simulator state. It also runs the simulated guest
// (guest.go). It reports vCenter 8.0.3 and, as vCenter 8.0 U3 does, takes a
// SOAP session's id on its REST endpoints (restsession.go). Used by tests and by the embedded supervisor (`make run`).
//
// It is part of the embedded stack: it must not import anything under test/
// or reconcile Kubernetes objects; tests use it like any user.
package vcsim
