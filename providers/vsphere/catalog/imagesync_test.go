package catalog

import "testing"

func TestImageName(t *testing.T) {
	cases := map[string]string{
		"photon-3-k8s-v1.18.20---vmware.1-tkg.1": "photon-3-k8s-v1.18.20---vmware.1-tkg.1",
		"ubuntu-2004-kube-v1.23.8+vmware.3":      "ubuntu-2004-kube-v1.23.8---vmware.3",
		"My_Template":                            "my-template",
		"has space":                              "",
	}
	for in, want := range cases {
		if got := ImageName(in); got != want {
			t.Errorf("ImageName(%q) = %q, want %q", in, got, want)
		}
	}
	if v := kubernetesVersion("photon-3-k8s-v1.18.20---vmware.1-tkg.1"); v != "v1.18.20" {
		t.Errorf("kubernetesVersion = %q", v)
	}
}
