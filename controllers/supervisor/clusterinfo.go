package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	ctrl "sigs.k8s.io/controller-runtime"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// ClusterInfoNamespace and ClusterInfoName name the ConfigMap Tanzu CLI
// reads to discover a Supervisor: a kubeconfig with the endpoint and its
// CA, in the shape of kubeadm's cluster-info.
const (
	ClusterInfoNamespace = "kube-public"
	ClusterInfoName      = "vip-cluster-info"
)

// clusterInfoKubeconfig is the kubeconfig vip-cluster-info holds.
func clusterInfoKubeconfig(vip string, ca []byte) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[""] = &clientcmdapi.Cluster{
		Server:                   "https://" + net.JoinHostPort(vip, strconv.Itoa(int(APIServerPort))),
		CertificateAuthorityData: ca,
	}
	return clientcmd.Write(*cfg)
}

// reconcileClusterInfo publishes the endpoint once it serves, with the CA
// its certificate chains to (EndpointCA), or the certificate itself.
func (r *Reconciler) reconcileClusterInfo(ctx context.Context, sv *vspherev1.Supervisor, obs *observation) error {
	if sv.Status.APIServerClusterEndpoint == "" {
		return nil
	}
	ca := r.EndpointCA
	if len(ca) == 0 {
		ca = obs.certificate
	}
	if len(ca) == 0 {
		return nil
	}
	kubeconfig, err := clusterInfoKubeconfig(sv.Status.APIServerClusterEndpoint, ca)
	if err != nil {
		return fmt.Errorf("failed to write the cluster-info kubeconfig: %w", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ClusterInfoNamespace, Name: ClusterInfoName}}
	err = r.ensure(ctx, sv, cm, func() { cm.Data = map[string]string{"kubeconfig": string(kubeconfig)} })
	if errors.Is(err, errTaken) {
		ctrl.LoggerFrom(ctx).Info("Not publishing the endpoint: the ConfigMap belongs to something else", "ConfigMap", ClusterInfoNamespace+"/"+ClusterInfoName)
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to apply ConfigMap %s/%s: %w", ClusterInfoNamespace, ClusterInfoName, err)
	}
	return r.reconcileClusterInfoAccess(ctx, sv)
}

// reconcileClusterInfoAccess lets anyone read vip-cluster-info, as
// kubeadm lets anyone read cluster-info: clients read it before they log
// in.
func (r *Reconciler) reconcileClusterInfoAccess(ctx context.Context, sv *vspherev1.Supervisor) error {
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ClusterInfoNamespace, Name: ClusterInfoName + "-reader"}}
	err := r.ensure(ctx, sv, role, func() {
		role.Rules = []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{ClusterInfoName}, Verbs: []string{"get"}}}
	})
	if err != nil && !errors.Is(err, errTaken) {
		return fmt.Errorf("failed to apply Role %s/%s: %w", role.Namespace, role.Name, err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ClusterInfoNamespace, Name: role.Name}}
	err = r.ensure(ctx, sv, binding, func() {
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}
		binding.Subjects = []rbacv1.Subject{
			{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:unauthenticated"},
			{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:authenticated"},
		}
	})
	if err != nil && !errors.Is(err, errTaken) {
		return fmt.Errorf("failed to apply RoleBinding %s/%s: %w", binding.Namespace, binding.Name, err)
	}
	return nil
}
