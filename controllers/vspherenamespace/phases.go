package vspherenamespace

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

func controlledBy(o, owner metav1.Object) bool {
	ref := metav1.GetControllerOf(o)
	return ref != nil && ref.UID == owner.GetUID()
}

// setController makes vns the controller of o, unless something else
// already controls o.
func (r *Reconciler) setController(vns *vspherev1.VSphereNamespace, o client.Object) error {
	if ref := metav1.GetControllerOf(o); ref != nil && ref.UID != vns.UID {
		return nil
	}
	return controllerutil.SetControllerReference(vns, o, r.Client.Scheme())
}

// reconcileNamespace creates the Kubernetes Namespace, or adopts one
// labelled as a vSphere Namespace by hand (the embedded stack's ns1 of
// old). ready is false while a namespace of the name is still being
// deleted; a namespace that belongs to something else is a problem.
func (r *Reconciler) reconcileNamespace(ctx context.Context, vns *vspherev1.VSphereNamespace) (ready bool, _ *problem, _ error) {
	log := ctrl.LoggerFrom(ctx)
	ns := &corev1.Namespace{}
	err := r.Client.Get(ctx, client.ObjectKey{Name: vns.Name}, ns)
	if apierrors.IsNotFound(err) {
		ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: vns.Name, Labels: map[string]string{vspherev1.VSphereNamespaceLabel: "true"}}}
		if err := r.setController(vns, ns); err != nil {
			return false, nil, err
		}
		log.Info("Creating namespace", "Namespace", klog.KObj(ns))
		if err := r.Client.Create(ctx, ns); err != nil {
			if apierrors.IsAlreadyExists(err) {
				// The cache has not seen it yet; its event requeues.
				return false, nil, nil
			}
			return false, nil, fmt.Errorf("failed to create Namespace %s: %w", vns.Name, err)
		}
		return true, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("failed to get Namespace %s: %w", vns.Name, err)
	}
	if !ns.DeletionTimestamp.IsZero() {
		setWaiting(vns, "Waiting for the earlier namespace "+ns.Name+" to be deleted before creating it again")
		return false, nil, nil
	}
	labelled := ns.Labels[vspherev1.VSphereNamespaceLabel] == "true"
	owner := metav1.GetControllerOf(ns)
	switch {
	case owner != nil && owner.UID == vns.UID:
	case owner == nil && labelled:
		log.Info("Adopting namespace labelled as a vSphere Namespace", "Namespace", klog.KObj(ns))
	default:
		return false, &problem{
			reason: ReasonNamespaceTaken, id: "vcenter.wcp.namespace.exists",
			field: "metadata.name", wireField: "namespace",
			message: fmt.Sprintf("a Kubernetes namespace %q already exists and does not belong to this vSphere Namespace", ns.Name),
			args:    []string{ns.Name},
		}, nil
	}
	if labelled && owner != nil {
		return true, nil, nil
	}
	base := ns.DeepCopy()
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[vspherev1.VSphereNamespaceLabel] = "true"
	if err := r.setController(vns, ns); err != nil {
		return false, nil, err
	}
	if err := r.Client.Patch(ctx, ns, client.MergeFrom(base)); err != nil {
		return false, nil, fmt.Errorf("failed to label Namespace %s: %w", ns.Name, err)
	}
	return true, nil, nil
}

// reconcileClasses binds exactly the classes vm_service_spec names: each is
// a copy of the catalog's class, kept equal to it, and every other class
// in the namespace is removed. It returns how many classes are bound.
func (r *Reconciler) reconcileClasses(ctx context.Context, vns *vspherev1.VSphereNamespace) (int, []problem, error) {
	log := ctrl.LoggerFrom(ctx)
	var catalog vmopv1.VirtualMachineClassList
	if err := r.Client.List(ctx, &catalog, client.InNamespace(vspherev1.VMClassCatalogNamespace)); err != nil {
		return 0, nil, fmt.Errorf("failed to list the VM class catalog: %w", err)
	}
	inCatalog := map[string]*vmopv1.VirtualMachineClass{}
	for i := range catalog.Items {
		inCatalog[catalog.Items[i].Name] = &catalog.Items[i]
	}
	var problems []problem
	want := map[string]*vmopv1.VirtualMachineClass{}
	for i, name := range vns.Spec.VMServiceSpec.VMClasses {
		c, ok := inCatalog[name]
		if !ok {
			problems = append(problems, problem{
				reason: ReasonVMClassNotFound, id: "vcenter.wcp.namespace.vmclass.notfound",
				field:     fmt.Sprintf("spec.vmServiceSpec.vmClasses[%d]", i),
				wireField: fmt.Sprintf("vm_service_spec.vm_classes[%d]", i),
				message:   fmt.Sprintf("VM class %q does not exist", name), args: []string{name},
			})
			continue
		}
		want[name] = c
	}

	var have vmopv1.VirtualMachineClassList
	if err := r.Client.List(ctx, &have, client.InNamespace(vns.Name)); err != nil {
		return 0, nil, fmt.Errorf("failed to list the VM classes of namespace %s: %w", vns.Name, err)
	}
	existing := map[string]*vmopv1.VirtualMachineClass{}
	for i := range have.Items {
		c := &have.Items[i]
		if _, ok := want[c.Name]; ok {
			existing[c.Name] = c
			continue
		}
		if !c.DeletionTimestamp.IsZero() {
			continue
		}
		log.Info("Removing VM class the namespace no longer names", "VirtualMachineClass", klog.KObj(c))
		if err := r.Client.Delete(ctx, c); err != nil && !apierrors.IsNotFound(err) {
			return 0, nil, fmt.Errorf("failed to delete VirtualMachineClass %s: %w", klog.KObj(c), err)
		}
	}
	for name, src := range want {
		if c, ok := existing[name]; ok {
			if equality.Semantic.DeepEqual(c.Spec, src.Spec) && controlledBy(c, vns) {
				continue
			}
			base := c.DeepCopy()
			c.Spec = *src.Spec.DeepCopy()
			if err := r.setController(vns, c); err != nil {
				return 0, nil, err
			}
			if err := r.Client.Patch(ctx, c, client.MergeFrom(base)); err != nil {
				return 0, nil, fmt.Errorf("failed to update VirtualMachineClass %s from the catalog: %w", klog.KObj(c), err)
			}
			continue
		}
		c := &vmopv1.VirtualMachineClass{
			ObjectMeta: metav1.ObjectMeta{Namespace: vns.Name, Name: name},
			Spec:       *src.Spec.DeepCopy(),
		}
		if err := r.setController(vns, c); err != nil {
			return 0, nil, err
		}
		if err := r.Client.Create(ctx, c); err != nil && !apierrors.IsAlreadyExists(err) {
			return 0, nil, fmt.Errorf("failed to bind VirtualMachineClass %s: %w", klog.KObj(c), err)
		}
	}
	return len(want), problems, nil
}

// reconcileStorage makes a StorageClass for each storage policy and the
// quota that grants them to the namespace: a policy's limit, or Unlimited.
// It returns how many classes are granted.
func (r *Reconciler) reconcileStorage(ctx context.Context, vns *vspherev1.VSphereNamespace) (int, []problem, error) {
	var problems []problem
	hard := corev1.ResourceList{}
	for i, s := range vns.Spec.StorageSpecs {
		field := fmt.Sprintf("spec.storageSpecs[%d].policy", i)
		wire := fmt.Sprintf("storage_specs[%d].policy", i)
		notFound := problem{
			reason: ReasonStoragePolicyNotFound, id: "vcenter.wcp.namespace.storagepolicy.notfound",
			field: field, wireField: wire, args: []string{s.Policy},
			message: fmt.Sprintf("storage policy %q does not exist in vCenter", s.Policy),
		}
		if r.Policies == nil {
			notFound.message = fmt.Sprintf("storage policy %q cannot be looked up: the supervisor has no access to vCenter's storage policies", s.Policy)
			problems = append(problems, notFound)
			continue
		}
		p, found, err := r.Policies.StoragePolicy(ctx, s.Policy)
		if err != nil {
			return 0, nil, err
		}
		if !found || p.StorageClass == "" {
			problems = append(problems, notFound)
			continue
		}
		created, err := EnsureStorageClass(ctx, r.Client, NewStorageClass(p, r.DatastoreURL, vns.Spec.Cluster))
		if errors.Is(err, ErrStorageClassTaken) {
			problems = append(problems, problem{
				reason: ReasonStorageClassTaken, id: "vcenter.wcp.namespace.storageclass.conflict",
				field: field, wireField: wire, args: []string{s.Policy, p.StorageClass},
				message: fmt.Sprintf("storage policy %q (%s) maps to StorageClass %q, which exists for another policy: %v", p.Name, s.Policy, p.StorageClass, err),
			})
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		if created {
			ctrl.LoggerFrom(ctx).Info("Created StorageClass for storage policy", "StorageClass", p.StorageClass, "policy", p.Name)
		}
		name := StorageQuotaResource(p.StorageClass)
		limit := storageLimit(s.LimitMiB)
		// The same policy twice: the larger limit stands.
		if prev, ok := hard[name]; !ok || prev.Cmp(limit) < 0 {
			hard[name] = limit
		}
	}
	if err := r.applyQuota(ctx, vns, StorageQuotaName, hard); err != nil {
		return 0, nil, err
	}
	return len(hard), problems, nil
}

// applyQuota makes the namespace's ResourceQuota name hold exactly hard,
// and deletes it when hard is empty.
func (r *Reconciler) applyQuota(ctx context.Context, vns *vspherev1.VSphereNamespace, name string, hard corev1.ResourceList) error {
	q := &corev1.ResourceQuota{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: vns.Name, Name: name}, q)
	found := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to get ResourceQuota %s/%s: %w", vns.Name, name, err)
	}
	switch {
	case len(hard) == 0 && !found:
		return nil
	case len(hard) == 0:
		if !controlledBy(q, vns) {
			return nil
		}
		if err := r.Client.Delete(ctx, q); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("failed to delete ResourceQuota %s/%s: %w", vns.Name, name, err)
		}
		return nil
	case !found:
		q = &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: vns.Name, Name: name}, Spec: corev1.ResourceQuotaSpec{Hard: hard}}
		if err := r.setController(vns, q); err != nil {
			return err
		}
		if err := r.Client.Create(ctx, q); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create ResourceQuota %s/%s: %w", vns.Name, name, err)
		}
		return nil
	}
	if equality.Semantic.DeepEqual(q.Spec.Hard, hard) && controlledBy(q, vns) {
		return nil
	}
	base := q.DeepCopy()
	q.Spec.Hard = hard
	if err := r.setController(vns, q); err != nil {
		return err
	}
	if err := r.Client.Patch(ctx, q, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("failed to update ResourceQuota %s/%s: %w", vns.Name, name, err)
	}
	return nil
}

// reconcileAccess makes a RoleBinding per subject of the access list
// (and one for vCenter's Administrators) and deletes the bindings it made for subjects no longer listed. A binding
// whose role changed is replaced (a RoleBinding's roleRef cannot change).
// It returns how many bindings the list asks for.
func (r *Reconciler) reconcileAccess(ctx context.Context, vns *vspherev1.VSphereNamespace) (int, []problem, error) {
	log := ctrl.LoggerFrom(ctx)
	want, problems := desiredRoleBindings(vns.Name, append(slices.Clone(vns.Spec.AccessList), Administrators))
	byName := map[string]*rbacv1.RoleBinding{}
	for _, rb := range want {
		byName[rb.Name] = rb
	}
	var have rbacv1.RoleBindingList
	if err := r.Client.List(ctx, &have, client.InNamespace(vns.Name)); err != nil {
		return 0, nil, fmt.Errorf("failed to list the RoleBindings of namespace %s: %w", vns.Name, err)
	}
	existing := map[string]*rbacv1.RoleBinding{}
	for i := range have.Items {
		rb := &have.Items[i]
		w, wanted := byName[rb.Name]
		if !wanted && !controlledBy(rb, vns) || !rb.DeletionTimestamp.IsZero() {
			continue
		}
		if wanted && rb.RoleRef == w.RoleRef {
			existing[rb.Name] = rb
			continue
		}
		log.Info("Removing role binding", "RoleBinding", klog.KObj(rb), "listed", wanted)
		if err := r.Client.Delete(ctx, rb); err != nil && !apierrors.IsNotFound(err) {
			return 0, nil, fmt.Errorf("failed to delete RoleBinding %s: %w", klog.KObj(rb), err)
		}
	}
	for _, w := range want {
		if rb, ok := existing[w.Name]; ok {
			if equality.Semantic.DeepEqual(rb.Subjects, w.Subjects) && controlledBy(rb, vns) {
				continue
			}
			base := rb.DeepCopy()
			rb.Subjects = w.Subjects
			if err := r.setController(vns, rb); err != nil {
				return 0, nil, err
			}
			if err := r.Client.Patch(ctx, rb, client.MergeFrom(base)); err != nil {
				return 0, nil, fmt.Errorf("failed to update RoleBinding %s: %w", klog.KObj(rb), err)
			}
			continue
		}
		if err := r.setController(vns, w); err != nil {
			return 0, nil, err
		}
		if err := r.Client.Create(ctx, w); err != nil && !apierrors.IsAlreadyExists(err) {
			return 0, nil, fmt.Errorf("failed to create RoleBinding %s: %w", klog.KObj(w), err)
		}
	}
	return len(want), problems, nil
}
