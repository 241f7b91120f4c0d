// Package guestsim simulates what cloud-init, kubeadm and the kubelet would
// do inside the VMs of guest clusters, for the embedded stack and tests:
// vcsim VMs run nothing, yet users and Cluster API must see the clusters
// they create come alive as real Kubernetes clusters.
//
// It watches VirtualMachines (vmoperator.vmware.com) labelled with a Cluster
// API cluster (capv.vmware.com/cluster.name, .../cluster.role). Once such a VM
// is powered on with an IPv4 address, a BIOS UUID and its bootstrap Secret,
// and Options.BootDelay has passed, the VM "boots":
//
//   - the first control-plane VM starts the cluster's control plane: a real
//     kube-apiserver (its data in the shared etcd under
//     /guests/<namespace>/<cluster>, certificates from the cluster's
//     <cluster>-ca and -sa Secrets, the service range of the Cluster, the
//     login service's tokens trusted) and a kube-controller-manager with the
//     controllers that keep the API behaving (namespaces, garbage
//     collection, service accounts); both listen on loopback (apiserver.go);
//   - every control-plane VM forwards <VM IP>:6443 to that API server, whose
//     certificate names the VM addresses and the control-plane VIP, and
//     joins the simulated etcd membership (etcd.go);
//   - every VM runs a simulated kubelet (kubelet.go): it registers its Node
//     under the node's own credentials (Ready, InternalIP, the release's
//     Kubernetes version, capacity from the VM class), renews its Lease,
//     serves the kubelet API on <VM IP>:10250 for port-forwards, and a
//     kube-proxy answers on the node ports (kubeproxy.go);
//   - a control plane also gets its static Pods as mirror Pods, kubeadm's
//     role label and taint, and kubeadm init's objects (kubeadm-config,
//     cluster-info, kube-proxy, CoreDNS);
//   - then, as the guest's cloud provider would, the Node gets its
//     providerID vsphere://<biosUUID>, by which Cluster API finds it.
//
// KubeadmControlPlane reaches each etcd member by port-forward to
// kube-system/etcd-<node> through the guest API server, which asks the
// node's kubelet, which connects it to the simulated member: the guest's
// real data is in the shared etcd, and a real etcd per control-plane node
// would cost each cluster three processes. Workload Pods are not run.
//
// Powering a VM off stops what it ran (its Node turns NotReady; with the
// last running control plane the API server stops). Deleting the cluster's
// last control-plane VM deletes the guest's data and files. After a restart
// the guests boot again from the VMs, without the delay for VMs already
// Ready, and find their data where they left it.
//
// Wiring (the embedded stack's addToManager, or a test's manager, after
// providers/clusterapi.Setup):
//
//	sim, err := guestsim.Setup(mgr, guestsim.Options{EtcdServers: env.EtcdServers(), StateDir: dir})
//
// Cluster API's ClusterCache tries a Cluster as soon as its infrastructure
// is provisioned, long before a control plane boots, and after a failed
// attempt waits 30s. Stacks that want clusters up quickly shorten that as
// Cluster API's own tests do, on the ClusterCache providers/clusterapi.Setup
// returns:
//
//	cc.(interface{ SetConnectionCreationRetryInterval(time.Duration) }).
//		SetConnectionCreationRetryInterval(time.Second)
package guestsim
