package catalog

import "testing"

func TestImageName(t *testing.T) {
	cases := map[string]string{
		"ob-18186591-photon-3-k8s-v1.20.7---vmware.1-tkg.1.7fb9067": "ob-18186591-photon-3-k8s-v1.20.7---vmware.1-tkg.1.7fb9067",
		"ubuntu-2004-kube-v1.23.8+vmware.3":                         "ubuntu-2004-kube-v1.23.8---vmware.3",
		"My_Template":                                               "my-template",
		"has space":                                                 "",
	}
	for in, want := range cases {
		if got := ImageName(in); got != want {
			t.Errorf("ImageName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A node image shows the Kubernetes build and the release its item name
// carries, in every naming era; other images show none.
func TestProductInfo(t *testing.T) {
	for item, want := range map[string][2]string{
		"ob-18186591-photon-3-k8s-v1.20.7---vmware.1-tkg.1.7fb9067":           {"v1.20.7+vmware.1", "v1.20.7+vmware.1-tkg.1.7fb9067"},
		"ob-24076161-ubuntu-2204-amd64-vmi-k8s-v1.30.1---vmware.1-fips-tkg.5": {"v1.30.1+vmware.1-fips", "v1.30.1+vmware.1-fips-tkg.5"},
		"ob-24481438-ubuntu-2204-amd64-v1.30.8---vmware.1-fips-vkr.1":         {"v1.30.8+vmware.1-fips", "v1.30.8+vmware.1-fips-vkr.1"},
		"ubuntu-22.04-server": {"", ""},
	} {
		if got := productInfo(item); got.Version != want[0] || got.FullVersion != want[1] {
			t.Errorf("productInfo(%q) = %+v, want version %q, full version %q", item, got, want[0], want[1])
		}
	}
	if got := osInfo("ob-24481438-ubuntu-2204-amd64-v1.30.8---vmware.1-fips-vkr.1"); got.Type != "ubuntu64Guest" || got.Version != "22.04" {
		t.Errorf("osInfo = %+v", got)
	}
}
