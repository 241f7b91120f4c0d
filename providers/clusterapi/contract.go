package clusterapi

import (
	"context"
	"fmt"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/contract"
)

// contractVersions are the Cluster API contracts this Cluster API version
// honours, newest first: v1beta2 still accepts v1beta1 providers.
var contractVersions = []string{"v1beta2", "v1beta1"}

// apiVersionFromContract returns the newest apiVersion of gk that speaks a
// contract Cluster API honours, read from the labels of gk's CRD
// (cluster.x-k8s.io/<contract>: <versions joined by _>). It is what the
// conversion webhooks call to fill in the apiVersion of references that
// v1beta2 stores as group and kind only. Cluster API's own reader,
// contract.GetAPIVersion, lives in an internal package.
func apiVersionFromContract(ctx context.Context, c client.Reader, gk schema.GroupKind) (string, error) {
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	name := contract.CalculateCRDName(gk.Group, gk.Kind)
	if err := c.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
		return "", fmt.Errorf("failed to get CustomResourceDefinition %s for the apiVersion of %s: %w", name, gk, err)
	}
	v, err := newestContractVersion(crd.GetLabels())
	if err != nil {
		return "", fmt.Errorf("CustomResourceDefinition %s: %w", name, err)
	}
	return schema.GroupVersion{Group: gk.Group, Version: v}.String(), nil
}

// newestContractVersion picks, from the newest contract label present, the
// newest API version it lists.
func newestContractVersion(crdLabels map[string]string) (string, error) {
	for _, c := range contractVersions {
		listed := crdLabels[clusterv1.GroupVersion.Group+"/"+c]
		if listed == "" {
			continue
		}
		newest := ""
		for _, v := range strings.Split(listed, "_") {
			if newest == "" || version.CompareKubeAwareVersionStrings(v, newest) > 0 {
				newest = v
			}
		}
		return newest, nil
	}
	return "", fmt.Errorf("no contract label %s/{%s}", clusterv1.GroupVersion.Group, strings.Join(contractVersions, ","))
}
