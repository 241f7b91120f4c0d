package infrastructure

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/controllers/external"
	"sigs.k8s.io/cluster-api/util"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// bootstrapDataSecretName is the name of the Secret holding the Machine's
// bootstrap data, or "" while there is none: the one Cluster API recorded
// on the Machine or, before the Machine controller's next round (at most
// one a second) has copied it, the one the Machine's bootstrap config
// reports created, by the bootstrap contract's fields. Starting the VM on
// the config's word saves that round on every machine, and
// KubeadmControlPlane waits for each control-plane node before the next.
func (r *MachineReconciler) bootstrapDataSecretName(ctx context.Context, machine *clusterv1.Machine) (string, error) {
	if name := machine.Spec.Bootstrap.DataSecretName; name != nil {
		return *name, nil
	}
	ref := machine.Spec.Bootstrap.ConfigRef
	if !ref.IsDefined() {
		return "", nil
	}
	config, err := external.GetObjectFromContractVersionedRef(ctx, r.Client, ref, machine.Namespace)
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the bootstrap config %s %s: %w", ref.Kind, ref.Name, err)
	}
	if !config.GetDeletionTimestamp().IsZero() {
		return "", nil
	}
	created, found, err := unstructured.NestedBool(config.Object, "status", "initialization", "dataSecretCreated")
	if !found || err != nil {
		// Providers of the v1beta1 contract say so in status.ready.
		created, _, _ = unstructured.NestedBool(config.Object, "status", "ready")
	}
	if !created {
		return "", nil
	}
	name, _, _ := unstructured.NestedString(config.Object, "status", "dataSecretName")
	return name, nil
}

// kubeadmConfigToVSphereMachine maps a KubeadmConfig to the VSphereMachine
// of the Machine that owns it, so that its bootstrap data starts the VM.
func (r *MachineReconciler) kubeadmConfigToVSphereMachine(ctx context.Context, o client.Object) []reconcile.Request {
	config, ok := o.(*bootstrapv1.KubeadmConfig)
	if !ok || config.Status.DataSecretName == "" {
		return nil
	}
	machine, err := util.GetOwnerMachine(ctx, r.Client, config.ObjectMeta)
	if err != nil || machine == nil {
		return nil
	}
	infra := machine.Spec.InfrastructureRef
	if infra.Kind != "VSphereMachine" || infra.Name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: machine.Namespace, Name: infra.Name}}}
}
