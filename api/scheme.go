package api

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	addonsv1beta1 "sigs.k8s.io/cluster-api/api/addons/v1beta1"
	addonsv1beta2 "sigs.k8s.io/cluster-api/api/addons/v1beta2"
	bootstrapv1beta1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta1"
	bootstrapv1beta2 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	controlplanev1beta1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta1"
	controlplanev1beta2 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1beta1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	clusterv1beta2 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ipamv1alpha1 "sigs.k8s.io/cluster-api/api/ipam/v1alpha1"
	ipamv1beta1 "sigs.k8s.io/cluster-api/api/ipam/v1beta1"
	ipamv1beta2 "sigs.k8s.io/cluster-api/api/ipam/v1beta2"
	runtimev1alpha1 "sigs.k8s.io/cluster-api/api/runtime/v1alpha1"
	runtimev1beta2 "sigs.k8s.io/cluster-api/api/runtime/v1beta2"

	lbapiv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1alpha1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta1"
	vmwarev1beta2 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// NewScheme returns a scheme with client-go's types, CRDs, Cluster API's
// types and ours.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	addClusterAPI(s)
	utilruntime.Must(vmopv1.AddToScheme(s))
	utilruntime.Must(vmopv1alpha1.AddToScheme(s))
	utilruntime.Must(vspherev1.AddToScheme(s))
	utilruntime.Must(lbapiv1.AddToScheme(s))
	utilruntime.Must(runv1alpha1.AddToScheme(s))
	utilruntime.Must(runv1alpha2.AddToScheme(s))
	utilruntime.Must(runv1alpha3.AddToScheme(s))
	utilruntime.Must(vmwarev1.AddToScheme(s))
	utilruntime.Must(vmwarev1beta2.AddToScheme(s))
	return s
}

// addClusterAPI registers what the Cluster API core, KubeadmControlPlane and
// kubeadm bootstrap mains register between them. The older versions are
// needed too: the conversion webhooks decode them.
func addClusterAPI(s *runtime.Scheme) {
	for _, add := range []func(*runtime.Scheme) error{
		clusterv1beta1.AddToScheme, clusterv1beta2.AddToScheme,
		controlplanev1beta1.AddToScheme, controlplanev1beta2.AddToScheme,
		bootstrapv1beta1.AddToScheme, bootstrapv1beta2.AddToScheme,
		addonsv1beta1.AddToScheme, addonsv1beta2.AddToScheme,
		ipamv1alpha1.AddToScheme, ipamv1beta1.AddToScheme, ipamv1beta2.AddToScheme,
		runtimev1alpha1.AddToScheme, runtimev1beta2.AddToScheme,
	} {
		utilruntime.Must(add(s))
	}
}
