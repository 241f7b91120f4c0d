package templates

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"
)

//go:embed addons/*.yaml
var addonFiles embed.FS

// CNI is a CNI addon the supervisor ships a manifest for.
type CNI struct {
	// Name is how TanzuKubernetesClusters name it (settings.network.cni.name).
	Name string
	// Version of the CNI the manifest deploys.
	Version string
}

// CNIs are the shipped CNI addons: Antrea (vSphere's default) and Calico.
var CNIs = []CNI{
	{Name: "antrea", Version: "v1.11.1"},
	{Name: "calico", Version: "v3.26.1"},
}

// FindCNI returns the shipped CNI of that name.
func FindCNI(name string) (CNI, bool) {
	for _, c := range CNIs {
		if c.Name == name {
			return c, true
		}
	}
	return CNI{}, false
}

// CNIValues are what a CNI manifest is rendered with: the guest cluster's
// ranges, as CIDR blocks without host bits.
type CNIValues struct {
	PodCIDRs     []string
	ServiceCIDRs []string
}

// Manifest renders the CNI's manifest for one cluster: multi-document YAML
// of Namespaces, ServiceAccounts, RBAC, ConfigMaps, DaemonSets and
// Deployments (kinds every API server serves, no custom resources).
func (c CNI) Manifest(v CNIValues) ([]byte, error) {
	if len(v.PodCIDRs) == 0 || len(v.ServiceCIDRs) == 0 {
		return nil, fmt.Errorf("the %s manifest needs pod and service ranges", c.Name)
	}
	t, err := template.ParseFS(addonFiles, "addons/"+c.Name+".yaml")
	if err != nil {
		return nil, fmt.Errorf("failed to parse the %s manifest: %w", c.Name, err)
	}
	t.Option("missingkey=error")
	var b bytes.Buffer
	err = t.Execute(&b, struct {
		CNIValues
		Version string
	}{v, c.Version})
	if err != nil {
		return nil, fmt.Errorf("failed to render the %s manifest: %w", c.Name, err)
	}
	return b.Bytes(), nil
}
