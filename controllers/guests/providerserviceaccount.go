package guests

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/controllers/clustercache"
	"sigs.k8s.io/cluster-api/util/patch"

	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// ProviderServiceAccountReconciler realises the ProviderServiceAccounts of
// the Clusters on our infrastructure as CAPV does in supervisor mode. In the
// cluster's namespace: a ServiceAccount and a Role (the account's rules)
// named after the ProviderServiceAccount, a RoleBinding between them, and a
// service-account token Secret <name>-secret, all controlled by the
// ProviderServiceAccount so that the garbage collector deletes them with
// it. In the guest, once its control plane answers: the token Secret's data
// as spec.targetNamespace/spec.targetSecretName (the namespace is created if
// missing), so that a workload in the guest can act in its supervisor
// namespace with exactly those rules. The VSphereCluster's
// ProviderServiceAccountsReady condition says how far it got.
type ProviderServiceAccountReconciler struct {
	Client       client.Client
	ClusterCache clustercache.ClusterCache

	controller controller.Controller
}

// tokenSecretSuffix names a ProviderServiceAccount's token Secret (CAPV's).
const tokenSecretSuffix = "-secret"

// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=providerserviceaccounts,verbs=get;list;watch
// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=vsphereclusters;vsphereclusters/status,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete;escalate;bind

// SetupWithManager watches Clusters on our infrastructure, the
// ProviderServiceAccounts naming them and the token Secrets of those.
func (r *ProviderServiceAccountReconciler) SetupWithManager(mgr ctrl.Manager) error {
	c, err := forGuestClusters(mgr, r.ClusterCache, "guest-provider-service-accounts").
		Watches(&vmwarev1.ProviderServiceAccount{}, handler.EnqueueRequestsFromMapFunc(r.clustersOf)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(tokenSecretToCluster)).
		Build(r)
	if err != nil {
		return fmt.Errorf("failed to set up the ProviderServiceAccount controller: %w", err)
	}
	r.controller = c
	return nil
}

// clustersOf maps a ProviderServiceAccount to the Clusters whose
// infrastructure is the VSphereCluster it names.
func (r *ProviderServiceAccountReconciler) clustersOf(ctx context.Context, o client.Object) []reconcile.Request {
	psa, ok := o.(*vmwarev1.ProviderServiceAccount)
	if !ok || psa.Spec.Ref == nil {
		return nil
	}
	list := &clusterv1.ClusterList{}
	if err := r.Client.List(ctx, list, client.InNamespace(psa.Namespace)); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list the Clusters of a ProviderServiceAccount", "ProviderServiceAccount", klog.KObj(psa))
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		if names(psa, &list.Items[i]) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return reqs
}

// tokenSecretToCluster maps a token Secret this controller made (labelled
// with its cluster, so the manager's cache sees it) to the Cluster.
func tokenSecretToCluster(_ context.Context, o client.Object) []reconcile.Request {
	owner := metav1.GetControllerOf(o)
	name := o.GetLabels()[clusterv1.ClusterNameLabel]
	if owner == nil || owner.Kind != "ProviderServiceAccount" || name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
}

// names: psa is for cluster's VSphereCluster.
func names(psa *vmwarev1.ProviderServiceAccount, cluster *clusterv1.Cluster) bool {
	ref := psa.Spec.Ref
	infra := cluster.Spec.InfrastructureRef
	return ref != nil && ref.Name == infra.Name && (ref.Kind == "" || ref.Kind == infra.Kind) && infra.Kind == "VSphereCluster"
}

// Reconcile makes the supervisor-side objects of the cluster's
// ProviderServiceAccounts, then copies their tokens into the guest.
func (r *ProviderServiceAccountReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	cluster := &clusterv1.Cluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, cluster); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !cluster.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // the garbage collector deletes what was made
	}
	psas, err := r.accountsOf(ctx, cluster)
	if err != nil || len(psas) == 0 {
		return ctrl.Result{}, err
	}
	waiting := ""
	defer func() {
		if err := r.setCondition(ctx, cluster, waiting, reterr); err != nil {
			reterr = errors.Join(reterr, err)
		}
	}()
	for i := range psas {
		if err := r.reconcileInSupervisor(ctx, cluster, &psas[i]); err != nil {
			return ctrl.Result{}, err
		}
	}
	if !controlPlaneInitialized(cluster) {
		waiting = "waiting for the guest's control plane to copy the tokens into it"
		return ctrl.Result{}, nil
	}
	guest, err := guestClient(ctx, r.ClusterCache, r.controller, cluster, "guest-provider-service-account-secrets", &corev1.Secret{})
	if errors.Is(err, clustercache.ErrClusterNotConnected) {
		waiting = "waiting for the connection to the guest cluster to copy the tokens into it"
		return ctrl.Result{RequeueAfter: notConnectedRetry}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	for i := range psas {
		copied, err := r.copyToken(ctx, guest, &psas[i])
		if err != nil {
			return ctrl.Result{}, err
		}
		if !copied {
			waiting = fmt.Sprintf("waiting for the token of ServiceAccount %s", psas[i].Name)
		}
	}
	return ctrl.Result{}, nil
}

// accountsOf lists the live ProviderServiceAccounts for cluster.
func (r *ProviderServiceAccountReconciler) accountsOf(ctx context.Context, cluster *clusterv1.Cluster) ([]vmwarev1.ProviderServiceAccount, error) {
	list := &vmwarev1.ProviderServiceAccountList{}
	if err := r.Client.List(ctx, list, client.InNamespace(cluster.Namespace)); err != nil {
		return nil, fmt.Errorf("failed to list the ProviderServiceAccounts of Cluster %s: %w", klog.KObj(cluster), err)
	}
	var out []vmwarev1.ProviderServiceAccount
	for _, psa := range list.Items {
		if psa.DeletionTimestamp.IsZero() && names(&psa, cluster) {
			out = append(out, psa)
		}
	}
	return out, nil
}

// reconcileInSupervisor makes psa's ServiceAccount, token Secret, Role and
// RoleBinding in its namespace.
func (r *ProviderServiceAccountReconciler) reconcileInSupervisor(ctx context.Context, cluster *clusterv1.Cluster, psa *vmwarev1.ProviderServiceAccount) error {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: psa.Namespace, Name: name} }
	sa := &corev1.ServiceAccount{ObjectMeta: meta(psa.Name)}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, sa, func() error {
		return controllerutil.SetControllerReference(psa, sa, r.Client.Scheme())
	}); err != nil {
		return fmt.Errorf("failed to create ServiceAccount %s of ProviderServiceAccount %s: %w", klog.KObj(sa), klog.KObj(psa), err)
	}
	token := &corev1.Secret{ObjectMeta: meta(psa.Name + tokenSecretSuffix)}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, token, func() error {
		if token.CreationTimestamp.IsZero() {
			token.Type = corev1.SecretTypeServiceAccountToken
		}
		if token.Labels == nil {
			token.Labels = map[string]string{}
		}
		token.Labels[clusterv1.ClusterNameLabel] = cluster.Name
		if token.Annotations == nil {
			token.Annotations = map[string]string{}
		}
		token.Annotations[corev1.ServiceAccountNameKey] = sa.Name
		return controllerutil.SetControllerReference(psa, token, r.Client.Scheme())
	}); err != nil {
		return fmt.Errorf("failed to create token Secret %s of ProviderServiceAccount %s: %w", klog.KObj(token), klog.KObj(psa), err)
	}
	role := &rbacv1.Role{ObjectMeta: meta(psa.Name)}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, role, func() error {
		role.Rules = psa.Spec.Rules
		return controllerutil.SetControllerReference(psa, role, r.Client.Scheme())
	}); err != nil {
		return fmt.Errorf("failed to create or patch Role %s of ProviderServiceAccount %s: %w", klog.KObj(role), klog.KObj(psa), err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: meta(psa.Name)}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, binding, func() error {
		// roleRef cannot change; this one never does (the Role is named after the account).
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}
		binding.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: sa.Namespace}}
		return controllerutil.SetControllerReference(psa, binding, r.Client.Scheme())
	}); err != nil {
		return fmt.Errorf("failed to create or patch RoleBinding %s of ProviderServiceAccount %s: %w", klog.KObj(binding), klog.KObj(psa), err)
	}
	return nil
}

// copyToken writes the token Secret's data into the guest as
// targetNamespace/targetSecretName; false while the token is not issued yet.
func (r *ProviderServiceAccountReconciler) copyToken(ctx context.Context, guest client.Client, psa *vmwarev1.ProviderServiceAccount) (bool, error) {
	token := &corev1.Secret{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: psa.Namespace, Name: psa.Name + tokenSecretSuffix}, token); err != nil {
		return false, fmt.Errorf("failed to read the token Secret of ProviderServiceAccount %s: %w", klog.KObj(psa), err)
	}
	if len(token.Data[corev1.ServiceAccountTokenKey]) == 0 {
		return false, nil // the token controller fills it in; its change brings us back
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: psa.Spec.TargetNamespace}}
	if err := guest.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return false, fmt.Errorf("failed to create namespace %s in the guest for ProviderServiceAccount %s: %w", ns.Name, klog.KObj(psa), err)
	}
	target := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: psa.Spec.TargetNamespace, Name: psa.Spec.TargetSecretName}}
	op, err := controllerutil.CreateOrPatch(ctx, guest, target, func() error {
		target.Data = token.Data
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("failed to write Secret %s in the guest for ProviderServiceAccount %s: %w", klog.KObj(target), klog.KObj(psa), err)
	}
	if op != controllerutil.OperationResultNone {
		ctrl.LoggerFrom(ctx).Info("Provider service account token copied into the guest", "ProviderServiceAccount", klog.KObj(psa), "Secret", klog.KObj(target))
	}
	return true, nil
}

// setCondition sets the VSphereCluster's ProviderServiceAccountsReady
// (and its v1beta1 counterpart): False with the error or what it waits
// for, else True. Only that condition is patched, so the VSphereCluster's
// own controller's are left alone.
func (r *ProviderServiceAccountReconciler) setCondition(ctx context.Context, cluster *clusterv1.Cluster, waiting string, failed error) error {
	vc := &vmwarev1.VSphereCluster{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: cluster.Spec.InfrastructureRef.Name}, vc); err != nil {
		return client.IgnoreNotFound(err)
	}
	helper, err := patch.NewHelper(vc, r.Client)
	if err != nil {
		return err
	}
	c := metav1.Condition{Type: vmwarev1.VSphereClusterProviderServiceAccountsReadyCondition, Status: metav1.ConditionTrue,
		Reason: vmwarev1.VSphereClusterProviderServiceAccountsReadyReason, ObservedGeneration: vc.Generation}
	legacy := clusterv1.Condition{Type: vmwarev1.ProviderServiceAccountsReadyV1Beta1Condition, Status: corev1.ConditionTrue}
	switch {
	case failed != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, vmwarev1.VSphereClusterProviderServiceAccountsNotReadyReason, failed.Error()
		legacy.Status, legacy.Severity, legacy.Reason, legacy.Message = corev1.ConditionFalse, clusterv1.ConditionSeverityWarning,
			vmwarev1.ProviderServiceAccountsReconciliationFailedV1Beta1Reason, failed.Error()
	case waiting != "":
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, vmwarev1.VSphereClusterProviderServiceAccountsNotReadyReason, waiting
		legacy.Status, legacy.Severity, legacy.Reason, legacy.Message = corev1.ConditionFalse, clusterv1.ConditionSeverityInfo,
			vmwarev1.VSphereClusterProviderServiceAccountsNotReadyReason, waiting
	}
	meta.SetStatusCondition(&vc.Status.Conditions, c)
	legacyConditions := vc.GetV1Beta1Conditions()
	legacy.LastTransitionTime = metav1.Now()
	found := false
	for i := range legacyConditions {
		if legacyConditions[i].Type == legacy.Type {
			if legacyConditions[i].Status == legacy.Status {
				legacy.LastTransitionTime = legacyConditions[i].LastTransitionTime
			}
			legacyConditions[i], found = legacy, true
		}
	}
	if !found {
		legacyConditions = append(legacyConditions, legacy)
	}
	vc.SetV1Beta1Conditions(legacyConditions)
	return helper.Patch(ctx, vc,
		patch.WithOwnedConditions{Conditions: []string{vmwarev1.VSphereClusterProviderServiceAccountsReadyCondition}},
		patch.WithOwnedV1Beta1Conditions{Conditions: []clusterv1.ConditionType{vmwarev1.ProviderServiceAccountsReadyV1Beta1Condition}})
}
