package clusterapi

import (
	"testing"

	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"

	"github.com/open-supervisor/supervisor/api"
)

// The supervisor's own controllers stay off controller-runtime v0.24.1's
// priority queue, whose shutdown can hang past the manager's grace period,
// unless the caller asks for it; Cluster API's controllers choose their own.
func TestManagerOptionsKeepOwnControllersOffThePriorityQueue(t *testing.T) {
	opts, err := ManagerOptions(ctrl.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	if got := opts.Controller.UsePriorityQueue; got == nil || *got {
		t.Errorf("UsePriorityQueue = %v, want false", got)
	}
	chosen := ctrl.Options{Scheme: api.NewScheme()}
	chosen.Controller.UsePriorityQueue = ptr.To(true)
	if opts, err = ManagerOptions(chosen); err != nil {
		t.Fatal(err)
	}
	if got := opts.Controller.UsePriorityQueue; got == nil || !*got {
		t.Errorf("a caller's UsePriorityQueue=true became %v", got)
	}
	if got := ControllerDefaults(config.Controller{SkipNameValidation: ptr.To(true)}); !ptr.Deref(got.SkipNameValidation, false) {
		t.Error("ControllerDefaults dropped the caller's SkipNameValidation")
	}
}
