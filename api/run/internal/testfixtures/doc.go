// Package testfixtures holds fully filled run.tanzu.vmware.com objects for
// the conversion tests of every version (every field set, so a field a
// conversion forgets shows up as a difference) and an in-memory
// rules.Lookups with the embedded supervisor's facts for the defaulting and
// validation tests.
//
// Only tests import it; it must not be imported by non-test code, and it
// holds no rules of its own.
package testfixtures
