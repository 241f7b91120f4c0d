/*
Copyright 2026 The Kubernetes Authors.

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

// Package v1beta2 holds vmware.infrastructure.cluster.x-k8s.io/v1beta2, Cluster
// API Provider vSphere's (CAPV's) supervisor-mode infrastructure kinds as CAPV
// main (Cluster API contract v1beta2) publishes them: VSphereCluster,
// VSphereClusterTemplate, VSphereMachine, VSphereMachineTemplate and
// ProviderServiceAccount. It is the storage version and the conversion hub;
// Cluster API reads it (status.initialization.provisioned, status.addresses,
// spec.providerID). The types are copied from CAPV's api/supervisor/v1beta2
// (commit 111a1ba9, Apache 2.0); the labels and condition names the
// providers/vsphere/infrastructure package uses are in labels.go.
//
// +kubebuilder:object:generate=true
// +groupName=vmware.infrastructure.cluster.x-k8s.io
package v1beta2
