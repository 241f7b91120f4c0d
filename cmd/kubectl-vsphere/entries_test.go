package main

import (
	"reflect"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestEntriesForSupervisorLogin(t *testing.T) {
	e := entriesFor(loginResult{
		Host: "10.10.70.11", Username: "administrator@vsphere.local", Token: "jwt",
		TLS: clusterTLS{CAData: []byte("ca")},
		Workloads: []workload{
			{Namespace: "dev", MasterHost: "10.10.70.11", APIServerPort: "6443"},
			// On another Supervisor of the same vCenter.
			{Namespace: "prod", MasterHost: "10.10.70.12", APIServerPort: "6443"},
			{Namespace: "no-host"},
			{Namespace: "dev", MasterHost: "10.10.70.99"}, // a second "dev": the first wins
		},
	})

	wantClusters := map[string]*clientcmdapi.Cluster{
		"10.10.70.11": {Server: "https://10.10.70.11:6443", CertificateAuthorityData: []byte("ca")},
		"10.10.70.12": {Server: "https://10.10.70.12:6443", CertificateAuthorityData: []byte("ca")},
	}
	wantUsers := map[string]*clientcmdapi.AuthInfo{
		"wcp:10.10.70.11:administrator@vsphere.local": {Token: "jwt"},
		"wcp:10.10.70.12:administrator@vsphere.local": {Token: "jwt"},
	}
	wantContexts := map[string]*clientcmdapi.Context{
		"10.10.70.11": {Cluster: "10.10.70.11", AuthInfo: "wcp:10.10.70.11:administrator@vsphere.local"},
		"dev":         {Cluster: "10.10.70.11", AuthInfo: "wcp:10.10.70.11:administrator@vsphere.local", Namespace: "dev"},
		"prod":        {Cluster: "10.10.70.12", AuthInfo: "wcp:10.10.70.12:administrator@vsphere.local", Namespace: "prod"},
		"no-host":     {Cluster: "10.10.70.11", AuthInfo: "wcp:10.10.70.11:administrator@vsphere.local", Namespace: "no-host"},
	}
	assertEqual(t, "clusters", e.Clusters, wantClusters)
	assertEqual(t, "users", e.AuthInfos, wantUsers)
	assertEqual(t, "contexts", e.Contexts, wantContexts)
	assertEqual(t, "current context", e.CurrentContext, "10.10.70.11")
	assertEqual(t, "context names", e.contextNames(), []string{"10.10.70.11", "dev", "no-host", "prod"})
}

func TestEntriesForGuestLogin(t *testing.T) {
	e := entriesFor(loginResult{
		Host: "sv.lab.local", Username: "devops@vsphere.local", Token: "sv-jwt",
		TLS:       clusterTLS{Insecure: true},
		Workloads: []workload{{Namespace: "dev", MasterHost: "10.10.70.11", APIServerPort: "6443"}},
		GuestName: "tkc01",
		Guest:     guestSession{Token: "guest-jwt", Server: "10.10.80.5", CAData: []byte("guest-ca")},
	})

	// --insecure-skip-tls-verify is about the Supervisor; the guest
	// cluster's CA comes with the login.
	assertEqual(t, "guest cluster", e.Clusters["10.10.80.5"],
		&clientcmdapi.Cluster{Server: "https://10.10.80.5:6443", CertificateAuthorityData: []byte("guest-ca")})
	assertEqual(t, "supervisor cluster", e.Clusters["sv.lab.local"],
		&clientcmdapi.Cluster{Server: "https://sv.lab.local:6443", InsecureSkipTLSVerify: true})
	assertEqual(t, "guest user", e.AuthInfos["wcp:10.10.80.5:devops@vsphere.local"], &clientcmdapi.AuthInfo{Token: "guest-jwt"})
	assertEqual(t, "guest context", e.Contexts["tkc01"],
		&clientcmdapi.Context{Cluster: "10.10.80.5", AuthInfo: "wcp:10.10.80.5:devops@vsphere.local"})
	assertEqual(t, "current context", e.CurrentContext, "tkc01")
	assertEqual(t, "context names", e.contextNames(), []string{"dev", "sv.lab.local", "tkc01"})
}

func TestEntriesForIPv6Supervisor(t *testing.T) {
	e := entriesFor(loginResult{Host: "fd00::11", Username: "u@vsphere.local", Token: "t"})
	assertEqual(t, "server", e.Clusters["fd00::11"].Server, "https://[fd00::11]:6443")
	assertEqual(t, "user", e.Contexts["fd00::11"].AuthInfo, "wcp:fd00::11:u@vsphere.local")
}

func assertEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}
