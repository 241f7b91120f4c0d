package v1alpha2

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/open-supervisor/supervisor/api/run/internal/conversiondata"
	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// A v1alpha2 TanzuKubernetesRelease says in kubernetesVersion, repository
// and images[] what v1alpha3 says in kubernetes{version, imageRepository,
// etcd, pause, coredns, kube-vip}, and in nodeImageRef what v1alpha3 says in
// osImages (the first is the node image). Whatever one version cannot say
// (images other than those four, a node image of another kind, further OS
// images, bootstrap packages) travels in an annotation of the converted
// object, and comes back only while the fields both versions share still
// agree with it, so a round trip loses nothing and a change made in either
// version wins.

// nodeImageAPIVersion and nodeImageKind are what nodeImageRef names: the
// node images are ClusterVirtualMachineImages (vmoperator.vmware.com).
const (
	nodeImageAPIVersion = "vmoperator.vmware.com/v1alpha2"
	nodeImageKind       = "ClusterVirtualMachineImage"
)

// ConvertTo converts this TanzuKubernetesRelease to the v1alpha3 hub.
func (src *TanzuKubernetesRelease) ConvertTo(hub conversion.Hub) error {
	dst := hub.(*v1alpha3.TanzuKubernetesRelease)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	dst.Spec = releaseSpecToHub(src.Spec)
	var saved v1alpha3.TanzuKubernetesReleaseSpec
	ok, err := conversiondata.Unmarshal(dst, conversiondata.HubAnnotation, &saved)
	if err != nil {
		return err
	}
	if ok && equality.Semantic.DeepEqual(releaseSpecFromHub(saved), src.Spec) {
		dst.Spec = saved
	}
	if !equality.Semantic.DeepEqual(releaseSpecFromHub(dst.Spec), src.Spec) {
		if err := conversiondata.Marshal(dst, conversiondata.SpokeAnnotation(GroupVersion.Version), src.Spec); err != nil {
			return err
		}
	}
	return rules.CopyJSON(src.Status, &dst.Status)
}

// ConvertFrom converts the v1alpha3 hub to this TanzuKubernetesRelease.
func (dst *TanzuKubernetesRelease) ConvertFrom(hub conversion.Hub) error {
	src := hub.(*v1alpha3.TanzuKubernetesRelease)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	dst.Spec = releaseSpecFromHub(src.Spec)
	var saved TanzuKubernetesReleaseSpec
	ok, err := conversiondata.Unmarshal(dst, conversiondata.SpokeAnnotation(GroupVersion.Version), &saved)
	if err != nil {
		return err
	}
	if ok && equality.Semantic.DeepEqual(releaseSpecToHub(saved), src.Spec) {
		dst.Spec = saved
	}
	if !equality.Semantic.DeepEqual(releaseSpecToHub(dst.Spec), src.Spec) {
		if err := conversiondata.Marshal(dst, conversiondata.HubAnnotation, src.Spec); err != nil {
			return err
		}
	}
	return rules.CopyJSON(src.Status, &dst.Status)
}

// releaseSpecToHub maps what both versions can say.
func releaseSpecToHub(s TanzuKubernetesReleaseSpec) v1alpha3.TanzuKubernetesReleaseSpec {
	out := v1alpha3.TanzuKubernetesReleaseSpec{
		Version:    s.Version,
		Kubernetes: v1alpha3.KubernetesSpec{Version: s.KubernetesVersion, ImageRepository: s.Repository},
	}
	for _, c := range hubImages(&out.Kubernetes) {
		for _, img := range s.Images {
			if img.Name == c.name {
				*c.image = &v1alpha3.ContainerImageInfo{ImageRepository: img.Repository, ImageTag: img.Tag}
				break
			}
		}
	}
	if s.NodeImageRef != nil {
		out.OSImages = []corev1.LocalObjectReference{{Name: s.NodeImageRef.Name}}
	}
	return out
}

// releaseSpecFromHub maps what both versions can say.
func releaseSpecFromHub(s v1alpha3.TanzuKubernetesReleaseSpec) TanzuKubernetesReleaseSpec {
	out := TanzuKubernetesReleaseSpec{Version: s.Version, KubernetesVersion: s.Kubernetes.Version, Repository: s.Kubernetes.ImageRepository}
	k := s.Kubernetes
	for _, c := range hubImages(&k) {
		if img := *c.image; img != nil {
			out.Images = append(out.Images, ContainerImage{Name: c.name, Repository: img.ImageRepository, Tag: img.ImageTag})
		}
	}
	if len(s.OSImages) > 0 {
		out.NodeImageRef = &corev1.ObjectReference{APIVersion: nodeImageAPIVersion, Kind: nodeImageKind, Name: s.OSImages[0].Name}
	}
	return out
}

// hubImages are v1alpha3's component images by the name v1alpha2's images
// give them.
func hubImages(k *v1alpha3.KubernetesSpec) []struct {
	name  string
	image **v1alpha3.ContainerImageInfo
} {
	return []struct {
		name  string
		image **v1alpha3.ContainerImageInfo
	}{{"etcd", &k.Etcd}, {"pause", &k.Pause}, {"coredns", &k.CoreDNS}, {"kube-vip", &k.KubeVIP}}
}

// ConvertTo converts this TkgServiceConfiguration to the v1alpha3 hub; both
// have the same fields.
func (src *TkgServiceConfiguration) ConvertTo(hub conversion.Hub) error {
	dst := hub.(*v1alpha3.TkgServiceConfiguration)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	return rules.CopyJSON(src.Spec, &dst.Spec)
}

// ConvertFrom converts the v1alpha3 hub to this TkgServiceConfiguration.
func (dst *TkgServiceConfiguration) ConvertFrom(hub conversion.Hub) error {
	src := hub.(*v1alpha3.TkgServiceConfiguration)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	return rules.CopyJSON(src.Spec, &dst.Spec)
}
