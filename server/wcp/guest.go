package wcp

import (
	"context"
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/secret"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// guestLogin is a guest login's answer: the cluster's API address (no
// scheme, no port: clients use 6443) and its CA, base64 of PEM. Both are
// empty when the cluster is unknown, not permitted or not ready.
type guestLogin struct {
	server string
	caData string
}

// guestCluster resolves a guest login. The user may log in to a
// TanzuKubernetesCluster when it is an administrator or has OWNER or EDIT
// in the cluster's vSphere Namespace (canLogInToGuest). Without a
// namespace the name is looked for in every namespace the user may log in
// to, and must be unique there. An error means the lookup itself failed.
func (s *Server) guestCluster(ctx context.Context, id Identity, req LoginRequest) (guestLogin, error) {
	log := ctrl.LoggerFrom(ctx).WithValues("guestCluster", req.GuestClusterName, "guestNamespace", req.GuestClusterNamespace)
	candidates, err := s.guestCandidates(ctx, req)
	if err != nil {
		return guestLogin{}, err
	}
	var permitted []*runv1alpha3.TanzuKubernetesCluster
	for _, tkc := range candidates {
		ok, err := s.mayLogInToGuest(ctx, id, tkc.Namespace)
		if err != nil {
			return guestLogin{}, err
		}
		if ok {
			permitted = append(permitted, tkc)
		}
	}
	if len(permitted) != 1 {
		log.V(2).Info("No guest cluster for the login", "found", len(candidates), "permitted", len(permitted))
		return guestLogin{}, nil
	}
	return s.guestEndpoint(ctx, permitted[0])
}

// guestCandidates are the TanzuKubernetesClusters the request names,
// whoever may see them.
func (s *Server) guestCandidates(ctx context.Context, req LoginRequest) ([]*runv1alpha3.TanzuKubernetesCluster, error) {
	if req.GuestClusterNamespace != "" {
		tkc := &runv1alpha3.TanzuKubernetesCluster{}
		err := s.reader.Get(ctx, client.ObjectKey{Namespace: req.GuestClusterNamespace, Name: req.GuestClusterName}, tkc)
		switch {
		case apierrors.IsNotFound(err):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("failed to get TanzuKubernetesCluster %s/%s: %w", req.GuestClusterNamespace, req.GuestClusterName, err)
		}
		return []*runv1alpha3.TanzuKubernetesCluster{tkc}, nil
	}
	list := &runv1alpha3.TanzuKubernetesClusterList{}
	if err := s.reader.List(ctx, list); err != nil {
		return nil, fmt.Errorf("failed to list TanzuKubernetesClusters: %w", err)
	}
	var out []*runv1alpha3.TanzuKubernetesCluster
	for i := range list.Items {
		if list.Items[i].Name == req.GuestClusterName {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

// mayLogInToGuest says whether id may log in to the guest clusters of
// vSphere Namespace namespace.
func (s *Server) mayLogInToGuest(ctx context.Context, id Identity, namespace string) (bool, error) {
	if s.isAdministrator(id) {
		return true, nil
	}
	ns := &vspherev1.VSphereNamespace{}
	err := s.reader.Get(ctx, client.ObjectKey{Name: namespace}, ns)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil // not a vSphere Namespace: nobody's by access list
	case err != nil:
		return false, fmt.Errorf("failed to get VSphereNamespace %s: %w", namespace, err)
	}
	return canLogInToGuest(RoleIn(ns, id)), nil
}

// guestEndpoint reads the cluster's API address, from its Cluster API
// Cluster (or the TanzuKubernetesCluster's status), and its CA, from the
// Secret <cluster>-ca. A cluster without both is not ready for logins.
func (s *Server) guestEndpoint(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster) (guestLogin, error) {
	log := ctrl.LoggerFrom(ctx).WithValues("TanzuKubernetesCluster", client.ObjectKeyFromObject(tkc).String())
	host, err := s.guestHost(ctx, tkc)
	if err != nil {
		return guestLogin{}, err
	}
	ca, err := s.guestCA(ctx, tkc)
	if err != nil {
		return guestLogin{}, err
	}
	if host == "" || len(ca) == 0 {
		log.V(2).Info("The guest cluster has no endpoint or CA yet", "hasEndpoint", host != "", "hasCA", len(ca) > 0)
		return guestLogin{}, nil
	}
	return guestLogin{server: host, caData: base64.StdEncoding.EncodeToString(ca)}, nil
}

func (s *Server) guestHost(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster) (string, error) {
	cluster := &clusterv1.Cluster{}
	err := s.reader.Get(ctx, client.ObjectKeyFromObject(tkc), cluster)
	switch {
	case err == nil && cluster.Spec.ControlPlaneEndpoint.Host != "":
		return cluster.Spec.ControlPlaneEndpoint.Host, nil
	case err != nil && !apierrors.IsNotFound(err):
		return "", fmt.Errorf("failed to get Cluster %s/%s: %w", tkc.Namespace, tkc.Name, err)
	}
	if len(tkc.Status.APIEndpoints) > 0 {
		return tkc.Status.APIEndpoints[0].Host, nil
	}
	return "", nil
}

func (s *Server) guestCA(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster) ([]byte, error) {
	ca := &corev1.Secret{}
	key := client.ObjectKey{Namespace: tkc.Namespace, Name: secret.Name(tkc.Name, secret.ClusterCA)}
	err := s.reader.Get(ctx, key, ca)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("failed to get the CA Secret %s: %w", key, err)
	}
	return ca.Data[secret.TLSCrtDataName], nil
}
