package infrastructure

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Options tune the provider.
type Options struct {
	// MachineConcurrency is how many VSphereMachines are reconciled at once; 32 when zero.
	MachineConcurrency int
}

// Setup registers the VSphereCluster, VSphereMachine and
// VSphereMachineTemplate controllers.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	if o.MachineConcurrency == 0 {
		o.MachineConcurrency = 32
	}
	recorder := mgr.GetEventRecorder("vsphere-infrastructure")
	if err := (&ClusterReconciler{Client: mgr.GetClient(), Recorder: recorder}).SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("VSphereCluster controller: %w", err)
	}
	if err := (&MachineReconciler{Client: mgr.GetClient(), Recorder: recorder, Concurrency: o.MachineConcurrency}).SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("VSphereMachine controller: %w", err)
	}
	if err := (&MachineTemplateReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("VSphereMachineTemplate controller: %w", err)
	}
	return nil
}
