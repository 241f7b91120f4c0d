// Package vmware holds, by version, the Cluster API infrastructure kinds of
// supervisor clusters in Cluster API Provider vSphere's (CAPV's) group
// vmware.infrastructure.cluster.x-k8s.io: VSphereCluster,
// VSphereClusterTemplate, VSphereMachine, VSphereMachineTemplate and
// ProviderServiceAccount.
//
// Why CAPV's group and names rather than a group of our own: every reader of
// these objects was written for CAPV. clusterctl (move, describe), Cluster
// API's own controllers, dashboards and the scripts people run on a
// Supervisor (`kubectl get vspheremachines` and its IPAddr column,
// `.status.vmIp`, `.status.ready`, `.status.initialization.provisioned`)
// look them up by this group and these field names; a group of our own
// would have kept our kinds working for our controllers only, and every
// one of those readers would have found nothing. So both versions CAPV
// serves are served, field for field (the types are copied from CAPV's
// api/supervisor): v1beta1 as CAPV v1.15 and older publish it, and v1beta2,
// CAPV main's (Cluster API contract v1beta2), the storage version and
// conversion hub, which our controllers and Cluster API use. Conversion runs
// through the manager's /convert webhook like the TanzuKubernetesCluster's,
// and is lossless in both directions (see v1beta1/convertible.go), where
// CAPV's drops a v1beta1 writer's status.vmIp and a few other fields.
//
// Every field is acted on or refused at admission with a message naming it
// (the CRDs' validation rules): what this supervisor cannot do, such as a
// machine's spec.network, spec.policies, naming templates or failure
// domain, or an NSX network on a VSphereCluster, is refused rather than
// accepted and ignored. The VSphereCluster, VSphereMachine and template
// controllers are in providers/vsphere/infrastructure; ProviderServiceAccounts
// are realised in controllers/guests.
package vmware
