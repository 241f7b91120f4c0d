// Package tb names what test helpers use of a test, so that helper packages
// under test/ need not import the testing package outside _test.go files
// (the rule DESIGN.md sets for every non-test file).
//
// Only test helpers and _test.go files may import it.
package tb
