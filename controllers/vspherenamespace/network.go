package vspherenamespace

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// reconcileNetworks tells the VM service which workload networks the
// namespace's VMs may use (NamespaceNetworksAnnotation on its Namespace):
// the spec's networks, or the cluster's primary one when it names none.
// A name the Supervisor does not have is a problem, and the annotation
// then keeps only the known ones.
func (r *Reconciler) reconcileNetworks(ctx context.Context, vns *vspherev1.VSphereNamespace) ([]problem, error) {
	sup := &vspherev1.Supervisor{}
	err := r.Client.Get(ctx, client.ObjectKey{Name: vns.Spec.Cluster}, sup)
	if apierrors.IsNotFound(err) || vns.Spec.Cluster == "" {
		// Not on an enabled cluster: its VMs use the default network.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get Supervisor %s: %w", vns.Spec.Cluster, err)
	}
	known := map[string]bool{}
	for _, n := range sup.Spec.WorkloadNetworks() {
		known[n.Name] = true
	}
	var problems []problem
	networks := []string{sup.Spec.WorkloadNetwork.Name}
	if len(vns.Spec.Networks) > 0 {
		networks = nil
		for i, n := range vns.Spec.Networks {
			if !known[n] {
				problems = append(problems, problem{
					reason: ReasonNetworkNotFound, id: "vcenter.wcp.namespace.network.notfound", args: []string{n},
					field: fmt.Sprintf("spec.networks[%d]", i), wireField: fmt.Sprintf("networks[%d]", i),
					message: fmt.Sprintf("cluster %s has no workload network %q", sup.Name, n),
				})
				continue
			}
			networks = append(networks, n)
		}
	}
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: vns.Name}, ns); err != nil {
		return nil, fmt.Errorf("failed to get Namespace %s: %w", vns.Name, err)
	}
	want := strings.Join(slices.Compact(networks), ",")
	if ns.Annotations[vspherev1.NamespaceNetworksAnnotation] == want {
		return problems, nil
	}
	base := ns.DeepCopy()
	if ns.Annotations == nil {
		ns.Annotations = map[string]string{}
	}
	ns.Annotations[vspherev1.NamespaceNetworksAnnotation] = want
	if err := r.Client.Patch(ctx, ns, client.MergeFrom(base)); err != nil {
		return nil, fmt.Errorf("failed to record the networks of Namespace %s: %w", ns.Name, err)
	}
	return problems, nil
}
