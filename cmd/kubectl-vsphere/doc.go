// Command kubectl-vsphere is the `kubectl vsphere` plugin of this project:
// a compatible re-implementation of VMware's closed-source plugin of the
// same name, so that the scripts and habits of vSphere with Tanzu users
// keep working against this Supervisor.
//
// `kubectl vsphere login` posts the user's vCenter credentials to the
// Supervisor's login service (POST /wcp/login, GET /wcp/workloads, GET
// /wcp/loginbanner; the project's reference notes wcp-login.md give the
// wire format) and merges what it learns into the user's kubeconfig with
// the names VMware's plugin uses: a cluster and a context named after the
// Supervisor's host, a context per vSphere Namespace, a context per Tanzu
// Kubernetes cluster, and users named wcp:<host>:<user>. `kubectl vsphere
// logout` takes those entries out again. What login wrote is recorded in a
// kubeconfig extension (ledger.go), so that logout removes exactly that
// and nothing else.
//
// The files split by concern: the commands and their flags (root.go,
// login.go, logout.go, version.go, flagvalues.go, output.go); the HTTP
// client of the login service (wcpclient.go); certificate trust
// (trust.go); terminal prompts (prompt.go); and the kubeconfig: the
// entries a login writes (entries.go), their merge and removal as pure
// functions over clientcmdapi.Config (merge.go, ledger.go, kinds.go) and
// the file itself (kubeconfig.go).
package main
