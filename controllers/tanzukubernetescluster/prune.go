package tanzukubernetescluster

import (
	"context"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// Pruning: while a cluster lives, what its spec no longer asks for (a
// removed node pool, the templates of an older class or release) is
// deleted here, since its owner lives on and the garbage collector would
// keep it. What a deleted cluster leaves is the garbage collector's.

// deleteUnused deletes node pools that are no longer in the spec and
// templates nothing refers to any more: not the desired objects, and not a
// MachineSet of an older revision still being scaled down.
func (r *Reconciler) deleteUnused(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster, o *clusterObjects) error {
	inUse := sets.New[string]()
	for _, md := range o.MachineDeployments {
		inUse.Insert(md.Name)
	}
	mds, err := r.listChildren(ctx, tkc, &clusterv1.MachineDeploymentList{})
	if err != nil {
		return err
	}
	for _, md := range mds {
		if !inUse.Has(md.GetName()) {
			if err := r.deleteObject(ctx, tkc, md); err != nil {
				return err
			}
		}
	}

	for _, t := range o.MachineTemplates {
		inUse.Insert(t.Name)
	}
	for _, t := range o.ConfigTemplates {
		inUse.Insert(t.Name)
	}
	var machineSets clusterv1.MachineSetList
	if err := r.Client.List(ctx, &machineSets, client.InNamespace(tkc.Namespace),
		client.MatchingLabels{clusterv1.ClusterNameLabel: tkc.Name}); err != nil {
		return fmt.Errorf("failed to list the MachineSets of Cluster %s: %w", klog.KObj(tkc), err)
	}
	for _, ms := range machineSets.Items {
		inUse.Insert(ms.Spec.Template.Spec.InfrastructureRef.Name, ms.Spec.Template.Spec.Bootstrap.ConfigRef.Name)
	}
	for _, list := range []client.ObjectList{&vmwarev1.VSphereMachineTemplateList{}, &bootstrapv1.KubeadmConfigTemplateList{}} {
		templates, err := r.listChildren(ctx, tkc, list)
		if err != nil {
			return err
		}
		for _, t := range templates {
			if !inUse.Has(t.GetName()) {
				if err := r.deleteObject(ctx, tkc, t); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// listChildren lists the objects of one kind labelled as the cluster's and
// controlled by it.
func (r *Reconciler) listChildren(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster, list client.ObjectList) ([]client.Object, error) {
	if err := r.Client.List(ctx, list, client.InNamespace(tkc.Namespace), client.MatchingLabels{ClusterLabel: tkc.Name}); err != nil {
		return nil, fmt.Errorf("failed to list %T of %s: %w", list, klog.KObj(tkc), err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	var out []client.Object
	for _, item := range items {
		obj := item.(client.Object)
		if ref := metav1.GetControllerOf(obj); ref != nil && ref.UID == tkc.UID {
			out = append(out, obj)
		}
	}
	return out, nil
}

func (r *Reconciler) deleteObject(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster, obj client.Object) error {
	if !obj.GetDeletionTimestamp().IsZero() {
		return nil
	}
	kind := reflect.TypeOf(obj).Elem().Name()
	if err := r.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to delete %s %s: %w", kind, klog.KObj(obj), err)
	}
	r.event(tkc, corev1.EventTypeNormal, "Deleted", "Delete", "Deleted %s %s", kind, obj.GetName())
	return nil
}
