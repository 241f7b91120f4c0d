package v1beta2

// Hub marks VSphereCluster as the conversion hub.
func (*VSphereCluster) Hub() {}

// Hub marks VSphereClusterTemplate as the conversion hub.
func (*VSphereClusterTemplate) Hub() {}

// Hub marks VSphereMachine as the conversion hub.
func (*VSphereMachine) Hub() {}

// Hub marks VSphereMachineTemplate as the conversion hub.
func (*VSphereMachineTemplate) Hub() {}

// Hub marks ProviderServiceAccount as the conversion hub.
func (*ProviderServiceAccount) Hub() {}
