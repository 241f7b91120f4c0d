package v1alpha3

// Settings configure networking and storage of the cluster.
type Settings struct {
	// Network settings.
	// +optional
	Network *Network `json:"network,omitempty"`
	// Storage settings.
	// +optional
	Storage *Storage `json:"storage,omitempty"`
}

// Network configures the cluster's networking.
type Network struct {
	// Services is the service range; defaults to 10.96.0.0/12.
	// +optional
	Services *NetworkRanges `json:"services,omitempty"`
	// Pods is the pod range; defaults to 192.168.0.0/16.
	// +optional
	Pods *NetworkRanges `json:"pods,omitempty"`
	// ServiceDomain defaults to cluster.local.
	// +optional
	ServiceDomain string `json:"serviceDomain,omitempty"`
	// CNI defaults to the TkgServiceConfiguration's defaultCNI (antrea).
	// +optional
	CNI *CNIConfiguration `json:"cni,omitempty"`
	// Proxy configures an HTTP(S) proxy in the nodes.
	// +optional
	Proxy *ProxyConfiguration `json:"proxy,omitempty"`
	// Trust adds CA certificates to the nodes.
	// +optional
	Trust *TrustConfiguration `json:"trust,omitempty"`
}

// NetworkRanges is a list of CIDR blocks.
type NetworkRanges struct {
	// CIDRBlocks; host bits are allowed and ignored (192.0.2.0/16 means
	// 192.0.0.0/16). Not every CNI supports more than one.
	// +optional
	CIDRBlocks []string `json:"cidrBlocks,omitempty"`
}

// CNIConfiguration names the CNI.
type CNIConfiguration struct {
	// Name of the CNI: antrea or calico.
	Name string `json:"name"`
}

// ProxyConfiguration is an HTTP(S) proxy for the nodes.
type ProxyConfiguration struct {
	// HttpProxy is the proxy URL for HTTP.
	// +optional
	HttpProxy *string `json:"httpProxy,omitempty"` //nolint:revive // VMware's field name
	// HttpsProxy is the proxy URL for HTTPS.
	// +optional
	HttpsProxy *string `json:"httpsProxy,omitempty"` //nolint:revive // VMware's field name
	// NoProxy lists destinations reached directly.
	// +optional
	NoProxy []string `json:"noProxy,omitempty"`
}

// TrustConfiguration adds trusted certificates to the nodes.
type TrustConfiguration struct {
	// AdditionalTrustedCAs are added to the nodes' trust store.
	// +optional
	AdditionalTrustedCAs []TLSCertificate `json:"additionalTrustedCAs,omitempty"`
}

// TLSCertificate is a named PEM certificate.
type TLSCertificate struct {
	// Name of the certificate, used as its file name.
	Name string `json:"name"`
	// Data is the base64 of the PEM certificate.
	Data string `json:"data"`
}

// Storage configures the StorageClasses the guest cluster sees.
type Storage struct {
	// Classes exposed in the cluster; all of the namespace's if omitted.
	// +optional
	Classes []string `json:"classes,omitempty"`
	// DefaultClass is the cluster's default StorageClass; none if omitted.
	// +optional
	DefaultClass string `json:"defaultClass,omitempty"`
}
