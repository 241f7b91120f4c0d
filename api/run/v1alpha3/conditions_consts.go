package v1alpha3

// Condition types of a TanzuKubernetesCluster, as vSphere reports them.
const (
	ReadyCondition                            = "Ready"
	ControlPlaneReadyCondition                = "ControlPlaneReady"
	NodePoolsReadyCondition                   = "NodePoolsReady"
	NodesHealthyCondition                     = "NodesHealthy"
	AddonsReadyCondition                      = "AddonsReady"
	ProvisionedCondition                      = "Provisioned"
	StorageClassSyncedCondition               = "StorageClassSynced"
	RoleBindingSyncedCondition                = "RoleBindingSynced"
	ProviderServiceAccountsReadyCondition     = "ProviderServiceAccountsReady"
	ServiceDiscoveryReadyCondition            = "ServiceDiscoveryReady"
	TanzuKubernetesReleaseCompatibleCondition = "TanzuKubernetesReleaseCompatible"
	UpdatesAvailableCondition                 = "UpdatesAvailable"
)

// Condition reasons.
const (
	WaitingForConditionsReason                        = "WaitingForConditions"
	WaitingForClusterInfrastructureReason             = "WaitingForClusterInfrastructure"
	WaitingForControlPlaneInitializedReason           = "WaitingForControlPlaneInitialized"
	WaitingForControlPlaneReason                      = "WaitingForControlPlane"
	WaitingForNodesHealthyReason                      = "WaitingForNodesHealthy"
	NodePoolsUnknownReason                            = "NodePoolsUnknown"
	NodePoolsUpdatingReason                           = "NodePoolsUpdating"
	NodePoolsFailedReason                             = "NodePoolsFailed"
	AddonsReconciliationFailedReason                  = "AddonsReconciliationFailed"
	ProvisioningFailedReason                          = "ProvisioningFailed"
	AddonUnManagedReason                              = "AddonUnManaged"
	StorageClassSyncFailedReason                      = "StorageClassSyncFailed"
	RoleBindingSyncFailedReason                       = "RoleBindingSyncFailed"
	ProviderServiceAccountsReconciliationFailedReason = "ProviderServiceAccountsReconciliationFailed"
	SupervisorHeadlessServiceSetupFailedReason        = "SupervisorHeadlessServiceSetupFailed"
)
