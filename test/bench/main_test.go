package bench

import (
	"testing"

	"github.com/open-supervisor/supervisor/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
