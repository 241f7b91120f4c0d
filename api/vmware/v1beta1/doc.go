/*
Copyright 2021 The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package v1beta1 holds vmware.infrastructure.cluster.x-k8s.io/v1beta1, Cluster
// API Provider vSphere's (CAPV's) supervisor-mode infrastructure kinds as CAPV
// v1.15 and older publish them: VSphereCluster, VSphereClusterTemplate,
// VSphereMachine, VSphereMachineTemplate and ProviderServiceAccount, field for
// field (status.ready, status.vmstatus, status.vmIp, status.vmID, Cluster API
// v1beta1 conditions). The types are copied from CAPV's api/supervisor/v1beta1
// (commit 111a1ba9, Apache 2.0), conversion functions included; CAPV's module
// itself cannot be built with this project's dependencies. It is a spoke:
// every kind converts to and from the v1beta2 hub (see ../doc.go), keeping
// what v1beta2 cannot say in Cluster API's conversion-data annotation, as
// CAPV does, so objects written by either round-trip.
//
// +k8s:conversion-gen=github.com/open-supervisor/supervisor/api/vmware/v1beta2
// +kubebuilder:object:generate=true
// +groupName=vmware.infrastructure.cluster.x-k8s.io
package v1beta1
