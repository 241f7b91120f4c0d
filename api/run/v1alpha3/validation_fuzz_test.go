package v1alpha3_test

import (
	"testing"

	"github.com/open-supervisor/supervisor/api/run/internal/testfixtures"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// Whatever a user sends, the webhooks' defaulting and validation neither
// panic nor answer without naming the field at fault.
func FuzzV1alpha3Admission(f *testing.F) {
	for _, s := range [][]byte{nil, []byte("tkc"), []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"), []byte("any cluster a user may send")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, old := &runv1alpha3.TanzuKubernetesCluster{}, &runv1alpha3.TanzuKubernetesCluster{}
		filler := testfixtures.Filler(data)
		filler.Fill(c)
		filler.Fill(old)
		f := testfixtures.Facts()
		c.Default(f)
		old.Default(f)
		testfixtures.CheckFieldPaths(t, c.ValidateCreate(f))
		testfixtures.CheckFieldPaths(t, c.ValidateUpdate(old, f))
	})
}
