// Package wait is how tests wait: it polls a condition on
// k8s.io/apimachinery's wait loop until the condition holds, logs how long
// that took, and on timeout fails with what was awaited and the condition's
// last error. It owns no state and starts nothing; tests never sleep to
// wait, they wait here for something they can observe.
//
// Only _test.go files and the test helpers under test/ may import it.
package wait
