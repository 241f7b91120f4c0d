package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
)

// +kubebuilder:webhook:path=/validate-lbapi-opensupervisor-io-v1alpha1-loadbalancer,mutating=false,failurePolicy=fail,sideEffects=None,groups=lbapi.opensupervisor.io,resources=loadbalancers,verbs=create;update,versions=v1alpha1,name=vloadbalancer.lbapi.opensupervisor.io,admissionReviewVersions=v1

// LoadBalancerValidator refuses a LoadBalancer whose ranges do not parse or
// overlap, or that lacks credentials, naming each field at fault.
type LoadBalancerValidator struct {
	// Reader, when set, looks up the credentials Secret to warn early when
	// it is missing (creating the Secret afterwards is allowed).
	Reader client.Reader
}

var _ admission.Validator[*lbv1.LoadBalancer] = &LoadBalancerValidator{}

// ValidateCreate checks a new LoadBalancer.
func (v *LoadBalancerValidator) ValidateCreate(ctx context.Context, lb *lbv1.LoadBalancer) (admission.Warnings, error) {
	return v.validate(ctx, lb)
}

// ValidateUpdate checks a changed LoadBalancer.
func (v *LoadBalancerValidator) ValidateUpdate(ctx context.Context, _, lb *lbv1.LoadBalancer) (admission.Warnings, error) {
	return v.validate(ctx, lb)
}

// ValidateDelete allows every delete.
func (v *LoadBalancerValidator) ValidateDelete(context.Context, *lbv1.LoadBalancer) (admission.Warnings, error) {
	return nil, nil
}

func (v *LoadBalancerValidator) validate(ctx context.Context, lb *lbv1.LoadBalancer) (admission.Warnings, error) {
	if errs := lb.Validate(); len(errs) > 0 {
		return nil, apierrors.NewInvalid(lbv1.GroupVersion.WithKind("LoadBalancer").GroupKind(), lb.Name, errs)
	}
	ref := lb.Spec.HAProxy.CredentialsSecretRef
	if v.Reader == nil {
		return nil, nil
	}
	err := v.Reader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, &corev1.Secret{})
	if apierrors.IsNotFound(err) {
		return admission.Warnings{fmt.Sprintf("spec.haProxy.credentialsSecretRef: Secret %s/%s does not exist yet; Services wait until it does", ref.Namespace, ref.Name)}, nil
	}
	return nil, nil
}
