// Package integration runs the VM service against a real kube-apiserver and
// vcsim: what a user applies, and what appears (or does not) in vCenter.
package integration

import (
	"testing"

	"github.com/open-supervisor/supervisor/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
