package clusterapi

import (
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
)

// A stand-in infrastructure provider whose objects the tests move by hand:
// schemaless CRDs with the contract label, like Cluster API's own
// GenericInfrastructure* test CRDs.
const (
	infraGroup   = "infrastructure.test.opensupervisor.io"
	infraVersion = "v1alpha1"
)

// fakeInfraCRDs returns FakeCluster, FakeMachine and FakeMachineTemplate,
// labelled as v1alpha1 speaking contract v1beta2.
func fakeInfraCRDs() []*apiextensionsv1.CustomResourceDefinition {
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, kind := range []string{"FakeCluster", "FakeMachine", "FakeMachineTemplate"} {
		plural := strings.ToLower(kind) + "s"
		free := apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptr.To(true)}
		crds = append(crds, &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{
				Name:   plural + "." + infraGroup,
				Labels: map[string]string{"cluster.x-k8s.io/v1beta2": infraVersion},
			},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: infraGroup,
				Scope: apiextensionsv1.NamespaceScoped,
				Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, ListKind: kind + "List", Plural: plural, Singular: strings.ToLower(kind)},
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
					Name: infraVersion, Served: true, Storage: true,
					Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type:       "object",
						Properties: map[string]apiextensionsv1.JSONSchemaProps{"spec": free, "status": free},
					}},
				}},
			},
		})
	}
	return crds
}

// newInfra returns a fake infrastructure object with the given spec.
func newInfra(kind, namespace, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetAPIVersion(infraGroup + "/" + infraVersion)
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}
