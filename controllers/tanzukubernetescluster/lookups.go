package tanzukubernetescluster

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbapiv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	"github.com/open-supervisor/supervisor/api/run/rules"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/iprange"
)

// storageQuotaSuffix ends the ResourceQuota resource names through which
// vSphere assigns a storage policy's StorageClass to a namespace:
// <class>.storageclass.storage.k8s.io/requests.storage.
const storageQuotaSuffix = ".storageclass.storage.k8s.io/requests.storage"

// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=resourcequotas,verbs=get;list;watch
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=run.tanzu.vmware.com,resources=tanzukubernetesreleases;tkgserviceconfigurations,verbs=get;list;watch
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=workloadnetworks,verbs=get;list;watch
// +kubebuilder:rbac:groups=lbapi.opensupervisor.io,resources=loadbalancers,verbs=get;list;watch

// ClientLookups answers rules.Lookups from the API server.
type ClientLookups struct {
	// Reader is the manager's cached client, or its APIReader for facts
	// that must be current (see Webhook.Fresh).
	Reader client.Reader
	// Extra are further ranges guest clusters must not overlap, such as
	// the management network; the workload networks and load-balancer VIP
	// ranges are read from their objects.
	Extra []rules.Network
}

var _ rules.Lookups = &ClientLookups{}

// lookupObjects are the kinds ClientLookups reads. SetupWebhooks has the
// manager's cache watch them from the start: started by the first
// admission instead, each informer held it back about 100 ms (the cache
// checks for its sync that often), 0.7 s for the first cluster.
func lookupObjects() []client.Object {
	return []client.Object{
		&vmopv1.VirtualMachineClass{}, &corev1.ResourceQuota{}, &corev1.Namespace{}, &storagev1.StorageClass{},
		&runv1alpha3.TanzuKubernetesRelease{}, &vspherev1.WorkloadNetwork{}, &lbapiv1.LoadBalancer{},
		&runv1alpha3.TkgServiceConfiguration{},
	}
}

// VMClasses lists the VirtualMachineClasses of the namespace (namespaced
// classes, as current vm-operator has them, are bound by being there).
func (l *ClientLookups) VMClasses(ctx context.Context, namespace string) ([]string, error) {
	var list vmopv1.VirtualMachineClassList
	if err := l.Reader.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(list.Items))
	for _, c := range list.Items {
		out = append(out, c.Name)
	}
	return out, nil
}

// StorageClasses lists the StorageClasses the namespace's ResourceQuotas
// grant, as vSphere assigns storage policies. A namespace without any such
// quota (the embedded supervisor's) may use every StorageClass.
func (l *ClientLookups) StorageClasses(ctx context.Context, namespace string) ([]string, error) {
	var quotas corev1.ResourceQuotaList
	if err := l.Reader.List(ctx, &quotas, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	var out []string
	for _, q := range quotas.Items {
		for name := range q.Spec.Hard {
			if class, ok := strings.CutSuffix(string(name), storageQuotaSuffix); ok && !slices.Contains(out, class) {
				out = append(out, class)
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	// A vSphere Namespace grants exactly the storage its quotas name; only
	// a namespace labelled by hand, with no spec behind it, may use every
	// class.
	ns := &corev1.Namespace{}
	if err := l.Reader.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		return nil, err
	}
	if ref := metav1.GetControllerOf(ns); ref != nil && ref.Kind == "VSphereNamespace" {
		return nil, nil
	}
	var classes storagev1.StorageClassList
	if err := l.Reader.List(ctx, &classes); err != nil {
		return nil, err
	}
	for _, c := range classes.Items {
		out = append(out, c.Name)
	}
	return out, nil
}

// Releases lists the TanzuKubernetesReleases. Incompatible, deactivated
// and invalid ones (by label or condition, as on vSphere) are never picked
// by a version hint.
func (l *ClientLookups) Releases(ctx context.Context) ([]rules.Release, error) {
	var list runv1alpha3.TanzuKubernetesReleaseList
	if err := l.Reader.List(ctx, &list); err != nil {
		return nil, err
	}
	out := make([]rules.Release, 0, len(list.Items))
	for _, r := range list.Items {
		incompatible := false
		for _, label := range []string{runv1alpha3.LabelIncompatible, runv1alpha3.LabelDeactivated, runv1alpha3.LabelInvalid} {
			if _, ok := r.Labels[label]; ok {
				incompatible = true
			}
		}
		for _, c := range r.Status.Conditions {
			if (c.Type == runv1alpha3.ReleaseCompatibleCondition || c.Type == runv1alpha3.ReleaseValidCondition) && c.Status == corev1.ConditionFalse {
				incompatible = true
			}
		}
		var images []string
		for _, img := range r.Spec.OSImages {
			images = append(images, img.Name)
		}
		out = append(out, rules.Release{Name: r.Name, Version: r.Spec.Version, Incompatible: incompatible, Images: images})
	}
	return out, nil
}

// SupervisorNetworks lists the workload networks' address ranges, the
// load balancers' VIP ranges and Extra.
func (l *ClientLookups) SupervisorNetworks(ctx context.Context) ([]rules.Network, error) {
	out := slices.Clone(l.Extra)
	var networks vspherev1.WorkloadNetworkList
	if err := l.Reader.List(ctx, &networks); err != nil {
		return nil, err
	}
	for _, n := range networks.Items {
		for _, spec := range n.Spec.AddressRanges {
			r, err := iprange.Parse(spec)
			if err != nil {
				continue // the network's own validation reports it
			}
			out = append(out, rules.Network{Name: "workload network " + n.Name, Range: r})
		}
	}
	var lbs lbapiv1.LoadBalancerList
	if err := l.Reader.List(ctx, &lbs); err != nil {
		return nil, err
	}
	for _, lb := range lbs.Items {
		ranges, _ := lb.Spec.Ranges()
		for _, r := range ranges {
			out = append(out, rules.Network{Name: "load-balancer " + lb.Name + " VIPs", Range: r})
		}
	}
	return out, nil
}

// ServiceDefaults reads the TkgServiceConfiguration's defaults; none means
// the built-in ones.
func (l *ClientLookups) ServiceDefaults(ctx context.Context) (rules.ServiceDefaults, error) {
	var cfg runv1alpha3.TkgServiceConfiguration
	err := l.Reader.Get(ctx, client.ObjectKey{Name: runv1alpha3.TkgServiceConfigurationName}, &cfg)
	switch {
	case apierrors.IsNotFound(err):
		return rules.ServiceDefaults{}, nil
	case err != nil:
		return rules.ServiceDefaults{}, fmt.Errorf("failed to get TkgServiceConfiguration %s: %w", runv1alpha3.TkgServiceConfigurationName, err)
	}
	out := rules.ServiceDefaults{CNI: cfg.Spec.DefaultCNI}
	if cfg.Spec.Proxy != nil {
		out.Proxy = &rules.Proxy{}
		if err := rules.CopyJSON(cfg.Spec.Proxy, out.Proxy); err != nil {
			return rules.ServiceDefaults{}, err
		}
	}
	if cfg.Spec.Trust != nil {
		out.Trust = &rules.Trust{}
		if err := rules.CopyJSON(cfg.Spec.Trust, out.Trust); err != nil {
			return rules.ServiceDefaults{}, err
		}
	}
	return out, nil
}
