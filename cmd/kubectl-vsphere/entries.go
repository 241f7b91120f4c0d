package main

import (
	"net"
	"sort"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// apiServerPort is the port of the Supervisor's and the guest clusters'
// kube-apiservers.
const apiServerPort = "6443"

// loginEntries are the kubeconfig entries one login writes, by name.
type loginEntries struct {
	Clusters  map[string]*clientcmdapi.Cluster
	AuthInfos map[string]*clientcmdapi.AuthInfo
	Contexts  map[string]*clientcmdapi.Context
	// CurrentContext is the context login makes current.
	CurrentContext string
}

// clusterTLS is how kubectl is to check a cluster's certificate.
type clusterTLS struct {
	Insecure bool
	CAData   []byte // PEM
}

// loginResult is everything a login learned.
type loginResult struct {
	// Host names the Supervisor: its cluster and context.
	Host     string
	Username string
	Token    string
	TLS      clusterTLS
	// Workloads are the vSphere Namespaces the user may use.
	Workloads []workload
	// GuestName is the Tanzu Kubernetes cluster logged in to, if any.
	GuestName string
	Guest     guestSession
}

// entriesFor names the entries as VMware's plugin does: per Supervisor
// host a cluster <host> and user wcp:<host>:<user>; a context <host>, a
// context per vSphere Namespace and a context per guest cluster. The guest
// cluster's context is current after a guest login, the Supervisor's
// otherwise.
func entriesFor(r loginResult) loginEntries {
	e := loginEntries{
		Clusters:       map[string]*clientcmdapi.Cluster{},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{},
		Contexts:       map[string]*clientcmdapi.Context{},
		CurrentContext: r.Host,
	}
	supervisorUser := e.addCluster(r.Host, apiServerPort, r.TLS, r.Username, r.Token)
	e.Contexts[r.Host] = &clientcmdapi.Context{Cluster: r.Host, AuthInfo: supervisorUser}
	for _, w := range r.Workloads {
		e.addNamespace(r, w)
	}
	if r.GuestName != "" {
		// The guest's CA is the one to trust, even with
		// --insecure-skip-tls-verify (which is about the Supervisor).
		guestTLS := clusterTLS{CAData: r.Guest.CAData, Insecure: r.TLS.Insecure && len(r.Guest.CAData) == 0}
		user := e.addCluster(r.Guest.Server, apiServerPort, guestTLS, r.Username, r.Guest.Token)
		e.Contexts[r.GuestName] = &clientcmdapi.Context{Cluster: r.Guest.Server, AuthInfo: user}
		e.CurrentContext = r.GuestName
	}
	return e
}

// addNamespace adds the context of a vSphere Namespace, on the Supervisor
// that serves it. When two Supervisors have a namespace of the same name,
// the first one listed keeps the context.
func (e loginEntries) addNamespace(r loginResult, w workload) {
	if w.Namespace == "" {
		return
	}
	if _, taken := e.Contexts[w.Namespace]; taken {
		return
	}
	host, port := w.MasterHost, string(w.APIServerPort)
	if host == "" {
		host = r.Host
	}
	if port == "" {
		port = apiServerPort
	}
	user := e.addCluster(host, port, r.TLS, r.Username, r.Token)
	e.Contexts[w.Namespace] = &clientcmdapi.Context{Cluster: host, AuthInfo: user, Namespace: w.Namespace}
}

// addCluster adds the cluster <host> and the user wcp:<host>:<username>
// holding token, and returns the user's name.
func (e loginEntries) addCluster(host, port string, tls clusterTLS, username, token string) string {
	e.Clusters[host] = &clientcmdapi.Cluster{
		Server:                   "https://" + net.JoinHostPort(host, port),
		InsecureSkipTLSVerify:    tls.Insecure,
		CertificateAuthorityData: tls.CAData,
	}
	user := userName(host, username)
	e.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	return user
}

func userName(host, username string) string { return "wcp:" + host + ":" + username }

// contextNames are the contexts the login wrote, sorted as VMware's plugin
// lists them.
func (e loginEntries) contextNames() []string {
	names := make([]string, 0, len(e.Contexts))
	for name := range e.Contexts {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
