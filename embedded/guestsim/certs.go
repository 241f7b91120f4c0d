package guestsim

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"sigs.k8s.io/cluster-api/util/certs"
	"sigs.k8s.io/cluster-api/util/secret"
)

// keyPair is a CA of the cluster.
type keyPair struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

// loadCA reads the cluster's CA of purpose (secret.ClusterCA, secret.EtcdCA)
// that KubeadmControlPlane generated. The mux signs with RSA keys only.
func loadCA(ctx context.Context, r client.Reader, cluster types.NamespacedName, purpose secret.Purpose) (keyPair, error) {
	s, err := secret.Get(ctx, r, cluster, purpose)
	if err != nil {
		return keyPair{}, fmt.Errorf("failed to get the %s CA of Cluster %s: %w", purpose, cluster, err)
	}
	cert, err := certs.DecodeCertPEM(s.Data[secret.TLSCrtDataName])
	if err != nil || cert == nil {
		return keyPair{}, fmt.Errorf("invalid %s in Secret %s: %w", secret.TLSCrtDataName, s.Name, err)
	}
	signer, err := certs.DecodePrivateKeyPEM(s.Data[secret.TLSKeyDataName])
	if err != nil {
		return keyPair{}, fmt.Errorf("invalid %s in Secret %s: %w", secret.TLSKeyDataName, s.Name, err)
	}
	key, ok := signer.(*rsa.PrivateKey)
	if !ok {
		return keyPair{}, fmt.Errorf("the key in Secret %s is a %T; the in-memory API server needs RSA", s.Name, signer)
	}
	return keyPair{cert: cert, key: key}, nil
}

// servingKey is shared by every proxy's serving certificate: RSA key
// generation is slow and these guests are simulations (the mux does the same).
var servingKey = sync.OnceValues(certs.NewPrivateKey)

// servingCert returns an API server serving certificate signed by ca for
// hosts (IP addresses or DNS names), plus 127.0.0.1 and localhost.
func servingCert(ca keyPair, hosts ...string) (*tls.Certificate, error) {
	key, err := servingKey()
	if err != nil {
		return nil, fmt.Errorf("failed to generate the serving key: %w", err)
	}
	alt := certs.AltNames{DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			alt.IPs = append(alt.IPs, ip)
		} else if h != "" {
			alt.DNSNames = append(alt.DNSNames, h)
		}
	}
	cfg := &certs.Config{CommonName: "kube-apiserver", AltNames: alt, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	cert, err := cfg.NewSignedCert(key, ca.cert, ca.key)
	if err != nil {
		return nil, fmt.Errorf("failed to sign the serving certificate for %v: %w", hosts, err)
	}
	pair, err := tls.X509KeyPair(certs.EncodeCertPEM(cert), certs.EncodePrivateKeyPEM(key))
	if err != nil {
		return nil, fmt.Errorf("failed to assemble the serving certificate for %v: %w", hosts, err)
	}
	return &pair, nil
}
