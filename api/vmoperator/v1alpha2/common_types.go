package v1alpha2

// LocalObjectRef names an object in the same namespace, with its kind and API version.
type LocalObjectRef struct {
	// APIVersion of the referent.
	APIVersion string `json:"apiVersion"`
	// Kind of the referent.
	Kind string `json:"kind"`
	// Name of the referent.
	Name string `json:"name"`
}

// PartialObjectRef names an object whose kind and API version may be defaulted.
type PartialObjectRef struct {
	// Kind of the referent.
	// +optional
	Kind string `json:"kind,omitempty"`
	// APIVersion of the referent.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// Name of the referent.
	Name string `json:"name"`
}

// SecretKeySelector selects one key of a Secret in the same namespace.
type SecretKeySelector struct {
	// Name of the Secret.
	Name string `json:"name"`
	// Key within the Secret.
	Key string `json:"key"`
}
