package wcp

import (
	"encoding/base64"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

const testCAPEM = "-----BEGIN CERTIFICATE-----\nMIIBguest\n-----END CERTIFICATE-----\n"

// guestCluster is a TanzuKubernetesCluster with, as asked, its Cluster API
// Cluster's endpoint and its CA Secret.
func guestCluster(namespace, name, endpoint string, withCA bool) []client.Object {
	objs := []client.Object{&runv1alpha3.TanzuKubernetesCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}}
	if endpoint != "" {
		objs = append(objs, &clusterv1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Spec:       clusterv1.ClusterSpec{ControlPlaneEndpoint: clusterv1.APIEndpoint{Host: endpoint, Port: 6443}},
		})
	}
	if withCA {
		objs = append(objs, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-ca"},
			Data:       map[string][]byte{"tls.crt": []byte(testCAPEM), "tls.key": []byte("private")},
		})
	}
	return objs
}

func guestObjects() []client.Object {
	objs := []client.Object{
		supervisor("domain-c8", "192.168.10.2", ""),
		vsphereNamespace("dev", "domain-c8", group("devs", vspherev1.RoleEdit), user("bob", vspherev1.RoleView)),
		vsphereNamespace("prod", "domain-c8", user("bob", vspherev1.RoleOwner)),
		// Only the TanzuKubernetesCluster's status knows this one's endpoint.
		&runv1alpha3.TanzuKubernetesCluster{
			ObjectMeta: metav1.ObjectMeta{Namespace: "dev", Name: "from-status"},
			Status:     runv1alpha3.TanzuKubernetesClusterStatus{APIEndpoints: []runv1alpha3.APIEndpoint{{Host: "192.168.80.9", Port: 6443}}},
		},
	}
	objs = append(objs, guestCluster("dev", "tkc01", "192.168.80.5", true)...)
	objs = append(objs, guestCluster("prod", "tkc01", "192.168.90.5", true)...)
	objs = append(objs, guestCluster("dev", "no-ca-yet", "192.168.80.7", false)...)
	objs = append(objs, guestCluster("dev", "from-status", "", true)[1:]...)
	return objs
}

func TestGuestLogin(t *testing.T) {
	e := newEnv(t, guestObjects())
	caData := base64.StdEncoding.EncodeToString([]byte(testCAPEM))
	for _, tc := range []struct {
		name, user, password, body string
		wantServer, wantCA         string
	}{
		{"EDIT through a group", "alice@vsphere.local", "alice-pw", `{"guest_cluster_name":"tkc01","guest_cluster_namespace":"dev"}`, "192.168.80.5", caData},
		{"VIEW gives no guest access", "bob@vsphere.local", "bob-pw", `{"guest_cluster_name":"tkc01","guest_cluster_namespace":"dev"}`, "", ""},
		{"OWNER", "bob@vsphere.local", "bob-pw", `{"guest_cluster_name":"tkc01","guest_cluster_namespace":"prod"}`, "192.168.90.5", caData},
		{"no access at all", "carol@vsphere.local", "carol-pw", `{"guest_cluster_name":"tkc01","guest_cluster_namespace":"dev"}`, "", ""},
		{"unknown cluster", "alice@vsphere.local", "alice-pw", `{"guest_cluster_name":"nope","guest_cluster_namespace":"dev"}`, "", ""},
		{"no namespace, one permitted match", "alice@vsphere.local", "alice-pw", `{"guest_cluster_name":"tkc01"}`, "192.168.80.5", caData},
		{"no namespace, two permitted matches", "administrator@vsphere.local", "admin-pw", `{"guest_cluster_name":"tkc01"}`, "", ""},
		{"administrator", "administrator@vsphere.local", "admin-pw", `{"guest_cluster_name":"tkc01","guest_cluster_namespace":"prod"}`, "192.168.90.5", caData},
		{"no CA yet", "alice@vsphere.local", "alice-pw", `{"guest_cluster_name":"no-ca-yet","guest_cluster_namespace":"dev"}`, "", ""},
		{"endpoint from the status", "alice@vsphere.local", "alice-pw", `{"guest_cluster_name":"from-status","guest_cluster_namespace":"dev"}`, "192.168.80.9", caData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(http.MethodPost, "/wcp/login", tc.body, basic(tc.user, tc.password))
			if w.Code != http.StatusOK {
				t.Fatalf("guest login: %d %s", w.Code, w.Body)
			}
			var resp LoginResponse
			decode(t, w, &resp)
			if resp.SessionID == "" || resp.GuestClusterServer == nil || resp.GuestClusterCA == nil {
				t.Fatalf("answer %s lacks session_id, guest_cluster_server or guest_cluster_ca", w.Body)
			}
			if *resp.GuestClusterServer != tc.wantServer || *resp.GuestClusterCA != tc.wantCA {
				t.Errorf("guest = %q %q, want %q %q", *resp.GuestClusterServer, *resp.GuestClusterCA, tc.wantServer, tc.wantCA)
			}
		})
	}
}
