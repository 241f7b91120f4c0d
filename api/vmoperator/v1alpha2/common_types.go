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

// ValueOrSecretKeySelector is a value given inline or read from a Secret key.
type ValueOrSecretKeySelector struct {
	// From selects a Secret key holding the value.
	// +optional
	From *SecretKeySelector `json:"from,omitempty"`
	// Value is the value itself.
	// +optional
	Value *string `json:"value,omitempty"`
}

// KeyValueOrSecretKeySelectorPair is a key with a value given inline or
// read from a Secret key.
type KeyValueOrSecretKeySelectorPair struct {
	// Key of the pair.
	Key string `json:"key"`
	// Value of the pair.
	// +optional
	Value ValueOrSecretKeySelector `json:"value,omitempty"`
}
