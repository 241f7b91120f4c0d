package guestsim

import (
	"context"
	"crypto"
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

// keyPair is a certificate and its key: one of the cluster's CAs
// (<cluster>-ca, -etcd, -sa) that KubeadmControlPlane generated.
type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
	// certPEM and keyPEM are the Secret's data as stored.
	certPEM, keyPEM []byte
}

// loadKeyPair reads the cluster's Secret of purpose (secret.ClusterCA,
// secret.EtcdCA, secret.ServiceAccount). The service-account Secret holds a
// public key, not a certificate, in tls.crt; cert stays nil for it.
func loadKeyPair(ctx context.Context, r client.Reader, cluster types.NamespacedName, purpose secret.Purpose) (keyPair, error) {
	s, err := secret.Get(ctx, r, cluster, purpose)
	if err != nil {
		return keyPair{}, fmt.Errorf("failed to get the %s key pair of Cluster %s: %w", purpose, cluster, err)
	}
	kp := keyPair{certPEM: s.Data[secret.TLSCrtDataName], keyPEM: s.Data[secret.TLSKeyDataName]}
	if kp.key, err = certs.DecodePrivateKeyPEM(kp.keyPEM); err != nil || kp.key == nil {
		return keyPair{}, fmt.Errorf("invalid %s in Secret %s: %v", secret.TLSKeyDataName, s.Name, err)
	}
	if purpose == secret.ServiceAccount {
		return kp, nil
	}
	if kp.cert, err = certs.DecodeCertPEM(kp.certPEM); err != nil || kp.cert == nil {
		return keyPair{}, fmt.Errorf("invalid %s in Secret %s: %v", secret.TLSCrtDataName, s.Name, err)
	}
	return kp, nil
}

// leafKey is shared by every certificate the simulator issues: RSA key
// generation is slow and these guests are simulations. The cluster CAs
// and service-account keys are the cluster's own.
var leafKey = sync.OnceValues(certs.NewPrivateKey)

// certificate is a leaf certificate signed by a CA, in PEM and ready for
// crypto/tls.
type certificate struct {
	certPEM, keyPEM []byte
	tls             *tls.Certificate
}

// issue signs a certificate for cn (and organisations) with ca: a server
// certificate for hosts (IP addresses or DNS names) when there are any, a
// client certificate otherwise.
func issue(ca keyPair, cn string, orgs []string, hosts ...string) (*certificate, error) {
	key, err := leafKey()
	if err != nil {
		return nil, fmt.Errorf("failed to generate the leaf key: %w", err)
	}
	cfg := &certs.Config{CommonName: cn, Organization: orgs, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if len(hosts) > 0 {
		cfg.Usages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				cfg.AltNames.IPs = append(cfg.AltNames.IPs, ip)
			} else if h != "" {
				cfg.AltNames.DNSNames = append(cfg.AltNames.DNSNames, h)
			}
		}
	}
	cert, err := cfg.NewSignedCert(key, ca.cert, ca.key)
	if err != nil {
		return nil, fmt.Errorf("failed to sign a certificate for %s %v: %w", cn, hosts, err)
	}
	c := &certificate{certPEM: certs.EncodeCertPEM(cert), keyPEM: certs.EncodePrivateKeyPEM(key)}
	pair, err := tls.X509KeyPair(c.certPEM, c.keyPEM)
	if err != nil {
		return nil, fmt.Errorf("failed to assemble the certificate for %s: %w", cn, err)
	}
	c.tls = &pair
	return c, nil
}

// pool is a certificate pool holding ca.
func pool(ca keyPair) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}
