package clusterapi

import "testing"

func TestNewestContractVersion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		labels  map[string]string
		want    string
		wantErr bool
	}{
		{name: "one version", labels: map[string]string{"cluster.x-k8s.io/v1beta2": "v1beta2"}, want: "v1beta2"},
		{name: "newest of a list", labels: map[string]string{"cluster.x-k8s.io/v1beta2": "v1alpha3_v1beta1_v1alpha4"}, want: "v1beta1"},
		{name: "GA beats beta", labels: map[string]string{"cluster.x-k8s.io/v1beta2": "v1beta2_v1"}, want: "v1"},
		{name: "v1beta2 contract first", labels: map[string]string{
			"cluster.x-k8s.io/v1beta1": "v1beta1", "cluster.x-k8s.io/v1beta2": "v1beta2"}, want: "v1beta2"},
		{name: "v1beta1 contract still honoured", labels: map[string]string{"cluster.x-k8s.io/v1beta1": "v1alpha1"}, want: "v1alpha1"},
		{name: "older contracts are not", labels: map[string]string{"cluster.x-k8s.io/v1alpha4": "v1alpha4"}, wantErr: true},
		{name: "no labels", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := newestContractVersion(tc.labels)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("newestContractVersion(%v) = %q, %v; want %q, error %v", tc.labels, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
