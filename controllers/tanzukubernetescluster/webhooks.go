package tanzukubernetescluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/open-supervisor/supervisor/api/run/rules"
	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// Each version has its own webhooks with matchPolicy=Exact: a user of
// v1alpha1 is told about spec.topology.workers.class, not about the hub's
// nodePools[0].vmClass, and no request is checked twice.

// +kubebuilder:webhook:path=/mutate-run-tanzu-vmware-com-v1alpha1-tanzukubernetescluster,mutating=true,failurePolicy=fail,sideEffects=None,matchPolicy=Exact,groups=run.tanzu.vmware.com,resources=tanzukubernetesclusters,verbs=create;update,versions=v1alpha1,name=default.v1alpha1.tanzukubernetescluster.run.tanzu.vmware.com,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-run-tanzu-vmware-com-v1alpha1-tanzukubernetescluster,mutating=false,failurePolicy=fail,sideEffects=None,matchPolicy=Exact,groups=run.tanzu.vmware.com,resources=tanzukubernetesclusters,verbs=create;update,versions=v1alpha1,name=validate.v1alpha1.tanzukubernetescluster.run.tanzu.vmware.com,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/mutate-run-tanzu-vmware-com-v1alpha2-tanzukubernetescluster,mutating=true,failurePolicy=fail,sideEffects=None,matchPolicy=Exact,groups=run.tanzu.vmware.com,resources=tanzukubernetesclusters,verbs=create;update,versions=v1alpha2,name=default.v1alpha2.tanzukubernetescluster.run.tanzu.vmware.com,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-run-tanzu-vmware-com-v1alpha2-tanzukubernetescluster,mutating=false,failurePolicy=fail,sideEffects=None,matchPolicy=Exact,groups=run.tanzu.vmware.com,resources=tanzukubernetesclusters,verbs=create;update,versions=v1alpha2,name=validate.v1alpha2.tanzukubernetescluster.run.tanzu.vmware.com,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/mutate-run-tanzu-vmware-com-v1alpha3-tanzukubernetescluster,mutating=true,failurePolicy=fail,sideEffects=None,matchPolicy=Exact,groups=run.tanzu.vmware.com,resources=tanzukubernetesclusters,verbs=create;update,versions=v1alpha3,name=default.v1alpha3.tanzukubernetescluster.run.tanzu.vmware.com,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-run-tanzu-vmware-com-v1alpha3-tanzukubernetescluster,mutating=false,failurePolicy=fail,sideEffects=None,matchPolicy=Exact,groups=run.tanzu.vmware.com,resources=tanzukubernetesclusters,verbs=create;update,versions=v1alpha3,name=validate.v1alpha3.tanzukubernetescluster.run.tanzu.vmware.com,admissionReviewVersions=v1

// SetupWebhooks registers the defaulting and validating webhooks of every
// TanzuKubernetesCluster version, and the conversion endpoint (/convert)
// the CRD's Webhook conversion strategy must point at.
//
// lookups answer from the manager's cache; fresh from the API server, and
// are asked only when the cached facts would refuse an object. The cache
// watches what lookups read from the manager's start.
func SetupWebhooks(mgr ctrl.Manager, lookups, fresh rules.Lookups) error {
	for _, obj := range lookupObjects() {
		// Before the manager starts this only registers the informer.
		if _, err := mgr.GetCache().GetInformer(context.Background(), obj); err != nil {
			return fmt.Errorf("failed to watch %T for the TanzuKubernetesCluster webhooks: %w", obj, err)
		}
	}
	v1 := newV1alpha1Webhook(lookups, fresh)
	v2 := &Webhook[*runv1alpha2.TanzuKubernetesCluster]{Lookups: lookups, Fresh: fresh,
		DefaultFunc: (*runv1alpha2.TanzuKubernetesCluster).Default,
		CreateFunc:  (*runv1alpha2.TanzuKubernetesCluster).ValidateCreate,
		UpdateFunc:  (*runv1alpha2.TanzuKubernetesCluster).ValidateUpdate,
	}
	v3 := &Webhook[*runv1alpha3.TanzuKubernetesCluster]{Lookups: lookups, Fresh: fresh,
		DefaultFunc: func(c *runv1alpha3.TanzuKubernetesCluster, f rules.Facts) error { c.Default(f); return nil },
		CreateFunc:  (*runv1alpha3.TanzuKubernetesCluster).ValidateCreate,
		UpdateFunc:  (*runv1alpha3.TanzuKubernetesCluster).ValidateUpdate,
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &runv1alpha1.TanzuKubernetesCluster{}).WithDefaulter(v1).WithValidator(v1).Complete(); err != nil {
		return fmt.Errorf("failed to set up the v1alpha1 TanzuKubernetesCluster webhooks: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &runv1alpha2.TanzuKubernetesCluster{}).WithDefaulter(v2).WithValidator(v2).Complete(); err != nil {
		return fmt.Errorf("failed to set up the v1alpha2 TanzuKubernetesCluster webhooks: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &runv1alpha3.TanzuKubernetesCluster{}).WithDefaulter(v3).WithValidator(v3).Complete(); err != nil {
		return fmt.Errorf("failed to set up the v1alpha3 TanzuKubernetesCluster webhooks: %w", err)
	}
	return nil
}

// newV1alpha1Webhook is the v1alpha1 TanzuKubernetesCluster webhook.
func newV1alpha1Webhook(lookups, fresh rules.Lookups) *Webhook[*runv1alpha1.TanzuKubernetesCluster] {
	return &Webhook[*runv1alpha1.TanzuKubernetesCluster]{Lookups: lookups, Fresh: fresh,
		DefaultFunc: func(c *runv1alpha1.TanzuKubernetesCluster, f rules.Facts) error { c.Default(f); return nil },
		CreateFunc:  (*runv1alpha1.TanzuKubernetesCluster).ValidateCreate,
		UpdateFunc:  (*runv1alpha1.TanzuKubernetesCluster).ValidateUpdate,
	}
}

// Webhook adapts one version's pure Default and Validate functions to
// controller-runtime's typed admission.Defaulter and admission.Validator,
// gathering the facts they check against first.
type Webhook[T client.Object] struct {
	// Lookups gather the facts, best from the manager's cache: the
	// controller's own writes call the webhooks too, and a webhook that
	// lists from a busy API server can miss the API server's deadline.
	Lookups rules.Lookups
	// Fresh, if set, gathers the facts again when Lookups' would refuse
	// an object: a class, release or network created a moment ago may not
	// be in the cache yet, and a refusal must not rest on a lagging cache.
	Fresh       rules.Lookups
	DefaultFunc func(T, rules.Facts) error
	CreateFunc  func(T, rules.Facts) field.ErrorList
	UpdateFunc  func(T, T, rules.Facts) field.ErrorList
}

var (
	_ admission.Defaulter[*runv1alpha1.TanzuKubernetesCluster] = &Webhook[*runv1alpha1.TanzuKubernetesCluster]{}
	_ admission.Validator[*runv1alpha1.TanzuKubernetesCluster] = &Webhook[*runv1alpha1.TanzuKubernetesCluster]{}
)

// Default implements admission.Defaulter.
func (w *Webhook[T]) Default(ctx context.Context, obj T) error {
	f, err := w.facts(ctx, obj, func(f rules.Facts) field.ErrorList {
		defaulted := obj.DeepCopyObject().(T)
		if err := w.DefaultFunc(defaulted, f); err != nil {
			return field.ErrorList{field.InternalError(nil, err)}
		}
		return w.CreateFunc(defaulted, f)
	})
	if err != nil {
		return err
	}
	return w.DefaultFunc(obj, f)
}

// ValidateCreate implements admission.Validator.
func (w *Webhook[T]) ValidateCreate(ctx context.Context, obj T) (admission.Warnings, error) {
	f, err := w.facts(ctx, obj, func(f rules.Facts) field.ErrorList { return w.CreateFunc(obj, f) })
	if err != nil {
		return nil, err
	}
	return nil, invalid(obj, w.CreateFunc(obj, f))
}

// ValidateUpdate implements admission.Validator.
func (w *Webhook[T]) ValidateUpdate(ctx context.Context, oldObj, newObj T) (admission.Warnings, error) {
	if !newObj.GetDeletionTimestamp().IsZero() {
		return nil, nil // finalizers must be removable even if the rules changed
	}
	f, err := w.facts(ctx, newObj, func(f rules.Facts) field.ErrorList { return w.UpdateFunc(newObj, oldObj, f) })
	if err != nil {
		return nil, err
	}
	return nil, invalid(newObj, w.UpdateFunc(newObj, oldObj, f))
}

// ValidateDelete implements admission.Validator; deletion is always allowed.
func (w *Webhook[T]) ValidateDelete(context.Context, T) (admission.Warnings, error) {
	return nil, nil
}

// facts are the facts obj is checked against: Lookups', or Fresh's when
// Lookups' would make refuses report errors.
func (w *Webhook[T]) facts(ctx context.Context, obj T, refuses func(rules.Facts) field.ErrorList) (rules.Facts, error) {
	ns := obj.GetNamespace()
	if req, err := admission.RequestFromContext(ctx); ns == "" && err == nil {
		ns = req.Namespace // a manifest without namespace, before the API server fills it in
	}
	f, err := rules.Gather(ctx, w.Lookups, ns)
	if err != nil || w.Fresh == nil || len(refuses(f)) == 0 {
		return f, err
	}
	return rules.Gather(ctx, w.Fresh, ns)
}

func invalid(obj client.Object, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	gk := runv1alpha3.GroupVersion.WithKind("TanzuKubernetesCluster").GroupKind()
	return apierrors.NewInvalid(gk, obj.GetName(), errs)
}
