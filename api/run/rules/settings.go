package rules

import (
	"encoding/json"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Settings is a TanzuKubernetesCluster's spec.settings in every API
// version. Each version declares its own Go types for it, because its CRD
// schema is generated from its own package, but all have this JSON shape
// (TestSettingsShapeIsEveryVersions checks it), so the defaults and checks
// below are written once and reach a version's value through JSON.
type Settings struct {
	Network *NetworkSettings `json:"network,omitempty"`
	Storage *StorageSettings `json:"storage,omitempty"`
}

// NetworkSettings is spec.settings.network.
type NetworkSettings struct {
	Services      *NetworkRanges `json:"services,omitempty"`
	Pods          *NetworkRanges `json:"pods,omitempty"`
	ServiceDomain string         `json:"serviceDomain,omitempty"`
	CNI           *CNI           `json:"cni,omitempty"`
	Proxy         *Proxy         `json:"proxy,omitempty"`
	Trust         *Trust         `json:"trust,omitempty"`
}

// NetworkRanges is spec.settings.network.pods and .services.
type NetworkRanges struct {
	CIDRBlocks []string `json:"cidrBlocks,omitempty"`
}

// CNI is spec.settings.network.cni.
type CNI struct {
	Name string `json:"name"`
}

// StorageSettings is spec.settings.storage.
type StorageSettings struct {
	Classes      []string `json:"classes,omitempty"`
	DefaultClass string   `json:"defaultClass,omitempty"`
}

// DefaultSettings fills what a user may leave out of any version's
// spec.settings (S is the version's Settings type): the CNI (the
// TkgServiceConfiguration's), the pod and service ranges, the service
// domain, and the TkgServiceConfiguration's proxy and trust. Settings that
// do not read as rules' shape are left as they are for ValidateSettings to
// report.
func DefaultSettings[S any](settings **S, f Facts) {
	var s Settings
	if err := CopyJSON(*settings, &s); err != nil {
		return
	}
	n := s.Network
	if n == nil {
		n = &NetworkSettings{}
		s.Network = n
	}
	if n.CNI == nil || n.CNI.Name == "" {
		n.CNI = &CNI{Name: f.DefaultCNI}
	}
	if n.Pods == nil || len(n.Pods.CIDRBlocks) == 0 {
		n.Pods = &NetworkRanges{CIDRBlocks: []string{DefaultPodCIDR}}
	}
	if n.Services == nil || len(n.Services.CIDRBlocks) == 0 {
		n.Services = &NetworkRanges{CIDRBlocks: []string{DefaultServiceCIDR}}
	}
	if n.ServiceDomain == "" {
		n.ServiceDomain = DefaultServiceDomain
	}
	if n.Proxy == nil {
		n.Proxy = f.DefaultProxy
	}
	if n.Trust == nil {
		n.Trust = f.DefaultTrust
	}
	b, err := json.Marshal(s)
	if err != nil {
		return // rules' own types always marshal
	}
	if *settings == nil {
		*settings = new(S)
	}
	// Decoded over the version's value rather than into a new one, so a
	// field the version has and rules does not is kept, not dropped.
	_ = json.Unmarshal(b, *settings)
}

// ValidateSettings checks any version's defaulted spec.settings (path)
// against the facts of its namespace: the CNI and ranges (ValidateNetwork),
// proxy and trust, and the storage classes exposed in the cluster. Absent
// settings read as empty ones.
func ValidateSettings(path *field.Path, settings any, f Facts) field.ErrorList {
	s, errs := readSettings(path, settings)
	if errs != nil {
		return errs
	}
	n, storage := deref(s.Network), deref(s.Storage)
	var cni string
	if n.CNI != nil {
		cni = n.CNI.Name
	}
	network := path.Child("network")
	errs = ValidateNetwork(network, cni, n.Pods.blocks(), n.Services.blocks(), f.SupervisorNetworks)
	errs = append(errs, ValidateProxy(network.Child("proxy"), n.Proxy)...)
	errs = append(errs, ValidateTrust(network.Child("trust"), n.Trust)...)
	return append(errs, ValidateStorageSettings(path.Child("storage"), storage.Classes, storage.DefaultClass, f.StorageClasses)...)
}

// ValidateSettingsUpdate checks a change of any version's spec.settings
// (path): the CNI, the pod and service ranges and the service domain are
// immutable, since they are fixed into every node and into the CNI's state
// when the cluster is created.
func ValidateSettingsUpdate(path *field.Path, old, cur any) field.ErrorList {
	o, errs := readSettings(path, old)
	if errs != nil {
		return errs
	}
	c, errs := readSettings(path, cur)
	if errs != nil {
		return errs
	}
	oldN, newN := deref(o.Network), deref(c.Network)
	network := path.Child("network")
	errs = apivalidation.ValidateImmutableField(newN.CNI, oldN.CNI, network.Child("cni"))
	errs = append(errs, apivalidation.ValidateImmutableField(newN.Pods.blocks(), oldN.Pods.blocks(), network.Child("pods", "cidrBlocks"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(newN.Services.blocks(), oldN.Services.blocks(), network.Child("services", "cidrBlocks"))...)
	return append(errs, apivalidation.ValidateImmutableField(newN.ServiceDomain, oldN.ServiceDomain, network.Child("serviceDomain"))...)
}

func readSettings(path *field.Path, settings any) (Settings, field.ErrorList) {
	var s Settings
	if err := CopyJSON(settings, &s); err != nil {
		return Settings{}, field.ErrorList{field.InternalError(path, err)}
	}
	return s, nil
}

func (r *NetworkRanges) blocks() []string {
	if r == nil {
		return nil
	}
	return r.CIDRBlocks
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
