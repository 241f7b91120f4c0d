// Package api holds the supervisor's API types, one package per group and
// version; this file registers all of them at once.
package api

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	lbapiv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// NewScheme returns a scheme with client-go's types and ours.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(vmopv1.AddToScheme(s))
	utilruntime.Must(vspherev1.AddToScheme(s))
	utilruntime.Must(lbapiv1.AddToScheme(s))
	utilruntime.Must(runv1alpha1.AddToScheme(s))
	utilruntime.Must(runv1alpha2.AddToScheme(s))
	utilruntime.Must(runv1alpha3.AddToScheme(s))
	return s
}
