package conversiondata

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HubAnnotation holds, on a v1alpha1 or v1alpha2 object, the v1alpha3 spec
// and status it was converted from.
const HubAnnotation = "run.tanzu.vmware.com/conversion-data"

// SpokeAnnotation holds, on a v1alpha3 object, what the given older version
// said that v1alpha3 has no field for. One key per version, so data of one
// is never read as the other.
func SpokeAnnotation(version string) string {
	return "run.tanzu.vmware.com/" + version + "-conversion-data"
}

// Marshal stores v as JSON under key.
func Marshal(obj metav1.Object, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("failed to marshal conversion data: %w", err)
	}
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[key] = string(b)
	obj.SetAnnotations(a)
	return nil
}

// Unmarshal reads key into v and removes the annotation, so converted
// objects never show it; it reports whether the annotation was there.
func Unmarshal(obj metav1.Object, key string, v any) (bool, error) {
	a := obj.GetAnnotations()
	data, ok := a[key]
	if !ok {
		return false, nil
	}
	delete(a, key)
	if len(a) == 0 {
		a = nil
	}
	obj.SetAnnotations(a)
	if err := json.Unmarshal([]byte(data), v); err != nil {
		return false, fmt.Errorf("failed to unmarshal conversion data %s: %w", key, err)
	}
	return true, nil
}
