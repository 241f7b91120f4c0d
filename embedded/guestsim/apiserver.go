package guestsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/util/wait"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	netutils "k8s.io/utils/net"
	"sigs.k8s.io/cluster-api/util/certs"
	"sigs.k8s.io/yaml"

	"github.com/open-supervisor/supervisor/embedded/kube"
)

const (
	apiServerBinary         = "kube-apiserver"
	controllerManagerBinary = "kube-controller-manager"
	// defaultServiceCIDR is kubeadm's, for clusters that name none.
	defaultServiceCIDR = "10.96.0.0/12"
	// apiServerStartTimeout bounds how long a guest API server may take to
	// answer /readyz (20 of them start at once on 2 cores in the benchmark).
	apiServerStartTimeout = 3 * time.Minute
	// servingReloadTimeout bounds how long kube-apiserver takes to serve a
	// re-issued certificate (it watches the file).
	servingReloadTimeout = time.Minute
)

// guestControllers are the kube-controller-manager controllers a guest
// runs: those that keep the API behaving as in any cluster (namespace
// deletion, garbage collection, service accounts and their tokens, the
// kube-root-ca.crt ConfigMaps, aggregated roles). Workload controllers are
// left out: no Pods run in the simulation, so a Deployment shows no Pods
// rather than Pods that stay Pending forever.
var guestControllers = []string{
	"namespace-controller", "garbage-collector-controller",
	"serviceaccount-controller", "serviceaccount-token-controller",
	"root-ca-certificate-publisher-controller", "clusterrole-aggregation-controller",
}

// controlPlane is a guest cluster's kube-apiserver and
// kube-controller-manager: real processes, the API server's data in the
// shared etcd under the cluster's own prefix, certificates from the
// cluster's CAs. The API server listens on loopback; each control-plane
// VM's address forwards its port 6443 there (boot.go), as if it ran on
// every control-plane node.
type controlPlane struct {
	dir    string
	addr   string
	prefix string
	ca     keyPair
	// hosts are the names the serving certificate is for, sorted.
	hosts []string
	// admin is cluster-admin on the guest (kubeadm's admin.conf).
	admin *rest.Config

	apiServer, controllerManager *process
}

// startControlPlane runs the guest API server and controller manager of
// cluster c, serving a certificate for hosts, and returns once the API
// answers. On error it leaves nothing running.
func (s *Simulator) startControlPlane(ctx context.Context, c *guestCluster, serviceCIDR string, hosts []string) (_ *controlPlane, reterr error) {
	clusterCA, err := loadKeyPair(ctx, s.reader, c.key, "ca")
	if err != nil {
		return nil, err
	}
	sa, err := loadKeyPair(ctx, s.reader, c.key, "sa")
	if err != nil {
		return nil, err
	}
	cp := &controlPlane{
		dir:    s.controlPlaneDir(c),
		prefix: etcdPrefix(c),
		ca:     clusterCA,
	}
	defer func() {
		if reterr != nil {
			cp.stop(context.WithoutCancel(ctx), false, nil)
		}
	}()
	if err := os.MkdirAll(cp.dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the directory of guest cluster %s: %w", c.name, err)
	}
	files, err := cp.writeFiles(sa, s.opts.Authenticators, serviceCIDR, hosts)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		port, err := s.ports.next()
		if err != nil {
			return nil, err
		}
		cp.addr = net.JoinHostPort(loopbackHost, strconv.Itoa(port))
		if cp.admin, err = cp.clientConfig("kubernetes-admin", []string{"system:masters"}); err != nil {
			return nil, err
		}
		cp.apiServer, err = startProcess(apiServerBinary, filepath.Join(s.assets, apiServerBinary),
			filepath.Join(cp.dir, apiServerBinary+".log"), cp.apiServerArgs(s.opts.EtcdServers, files, serviceCIDR, port),
			[]string{"GOGC=50"})
		if err != nil {
			return nil, err
		}
		err = cp.waitReady(ctx)
		if err == nil {
			break
		}
		_ = cp.apiServer.stop()
		if attempt < 2 && strings.Contains(kube.LogTail(cp.apiServer.logPath, 5), "address already in use") {
			continue // another process took the port meanwhile
		}
		return nil, err
	}
	kubeconfig, err := cp.kubeconfig("system:kube-controller-manager", []string{"system:masters"})
	if err != nil {
		return nil, err
	}
	cp.controllerManager, err = startProcess(controllerManagerBinary, filepath.Join(s.assets, controllerManagerBinary),
		filepath.Join(cp.dir, controllerManagerBinary+".log"), []string{
			"--kubeconfig=" + kubeconfig,
			"--controllers=" + strings.Join(guestControllers, ","),
			"--leader-elect=false", "--secure-port=0",
			"--service-account-private-key-file=" + files.saKey,
			"--root-ca-file=" + files.ca,
			"--cluster-name=" + c.key.Name,
		}, []string{"GOGC=50"})
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// guestFiles are the paths of what a guest API server reads.
type guestFiles struct {
	ca, servingCert, servingKey, saPub, saKey, kubeletCert, kubeletKey, authentication string
}

// writeFiles writes the API server's certificates and configuration.
func (cp *controlPlane) writeFiles(sa keyPair, authenticators func() []apiserverv1.JWTAuthenticator, serviceCIDR string, hosts []string) (guestFiles, error) {
	in := func(name string) string { return filepath.Join(cp.dir, name) }
	f := guestFiles{
		ca: in("ca.crt"), servingCert: in("apiserver.crt"), servingKey: in("apiserver.key"),
		saPub: in("sa.pub"), saKey: in("sa.key"), kubeletCert: in("apiserver-kubelet-client.crt"),
		kubeletKey: in("apiserver-kubelet-client.key"), authentication: in("authentication-config.yaml"),
	}
	kubeletClient, err := issue(cp.ca, "kube-apiserver-kubelet-client", []string{"system:masters"})
	if err != nil {
		return f, err
	}
	pub, err := certs.EncodePublicKeyPEMFromSigner(sa.key.Public())
	if err != nil {
		return f, fmt.Errorf("failed to encode the service-account public key: %w", err)
	}
	auth := apiserverv1.AuthenticationConfiguration{}
	if authenticators != nil {
		auth.JWT = authenticators()
	}
	auth.APIVersion, auth.Kind = apiserverv1.SchemeGroupVersion.String(), "AuthenticationConfiguration"
	authYAML, err := yaml.Marshal(auth)
	if err != nil {
		return f, fmt.Errorf("failed to encode the authentication configuration: %w", err)
	}
	for path, data := range map[string][]byte{
		f.ca: cp.ca.certPEM, f.saPub: pub, f.saKey: sa.keyPEM,
		f.kubeletCert: kubeletClient.certPEM, f.kubeletKey: kubeletClient.keyPEM, f.authentication: authYAML,
	} {
		if err := writeFileAtomic(path, data); err != nil {
			return f, err
		}
	}
	return f, cp.writeServingCert(serviceCIDR, hosts)
}

// writeServingCert issues the API server's certificate for hosts and the
// names kubeadm adds (the kubernetes Service's names and first address,
// loopback).
func (cp *controlPlane) writeServingCert(serviceCIDR string, hosts []string) error {
	names := []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost", loopbackHost}
	// The kubernetes Service's address: the first of the range.
	if _, cidr, err := net.ParseCIDR(serviceCIDR); err == nil {
		if ip, err := netutils.GetIndexedIP(cidr, 1); err == nil {
			names = append(names, ip.String())
		}
	}
	cert, err := issue(cp.ca, "kube-apiserver", nil, append(names, hosts...)...)
	if err != nil {
		return err
	}
	// The key never changes, so a reload between the two writes still
	// finds a matching pair.
	if err := writeFileAtomic(filepath.Join(cp.dir, "apiserver.key"), cert.keyPEM); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(cp.dir, "apiserver.crt"), cert.certPEM); err != nil {
		return err
	}
	cp.hosts = slices.Clone(hosts)
	return nil
}

func (cp *controlPlane) apiServerArgs(etcdServers []string, f guestFiles, serviceCIDR string, port int) []string {
	return []string{
		"--etcd-servers=" + strings.Join(etcdServers, ","),
		"--etcd-prefix=" + cp.prefix,
		"--bind-address=" + loopbackHost, "--secure-port=" + strconv.Itoa(port), "--advertise-address=" + loopbackHost,
		"--tls-cert-file=" + f.servingCert, "--tls-private-key-file=" + f.servingKey,
		"--client-ca-file=" + f.ca,
		"--service-account-key-file=" + f.saPub, "--service-account-signing-key-file=" + f.saKey,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true",
		"--kubelet-client-certificate=" + f.kubeletCert, "--kubelet-client-key=" + f.kubeletKey,
		"--kubelet-certificate-authority=" + f.ca, "--kubelet-preferred-address-types=InternalIP",
		"--authentication-config=" + f.authentication,
		// The kubernetes Service's Endpoints would name a loopback
		// address, which Endpoints refuse; nothing in a guest routes to it.
		"--endpoint-reconciler-type=none",
		// Lists read etcd: a guest is small, and the watch cache would
		// cost every guest memory for objects it rarely lists.
		"--watch-cache=false",
		"--profiling=false",
	}
}

// clientConfig is a client of the guest authenticated by a certificate
// of the cluster CA for user in groups.
func (cp *controlPlane) clientConfig(user string, groups []string) (*rest.Config, error) {
	cert, err := issue(cp.ca, user, groups)
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host: "https://" + cp.addr, QPS: 50, Burst: 100,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.ca.certPEM, CertData: cert.certPEM, KeyData: cert.keyPEM},
	}, nil
}

// kubeconfig writes a kubeconfig file for user and returns its path.
func (cp *controlPlane) kubeconfig(user string, groups []string) (string, error) {
	cfg, err := cp.clientConfig(user, groups)
	if err != nil {
		return "", err
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["guest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["guest"] = &clientcmdapi.Context{Cluster: "guest", AuthInfo: user}
	kc.CurrentContext = "guest"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		return "", fmt.Errorf("failed to encode the kubeconfig of %s: %w", user, err)
	}
	path := filepath.Join(cp.dir, strings.ReplaceAll(user, ":", "-")+".kubeconfig")
	return path, writeFileAtomic(path, data)
}

// waitReady returns once the API server answers /readyz, or with the end
// of its log if it exited.
func (cp *controlPlane) waitReady(ctx context.Context) error {
	rt, err := rest.TransportFor(cp.admin)
	if err != nil {
		return fmt.Errorf("failed to build a client of the guest API server: %w", err)
	}
	hc := &http.Client{Transport: rt, Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, apiServerStartTimeout)
	defer cancel()
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := cp.apiServer.exitError(); err != nil {
			return false, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+cp.addr+"/readyz", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if wait.Interrupted(err) {
		return fmt.Errorf("the guest API server did not become ready within %s; see %s", apiServerStartTimeout, cp.apiServer.logPath)
	}
	return err
}

// serve makes the API server's certificate valid for hosts (the VIP and
// the control-plane VMs' addresses) and returns once it serves it.
func (cp *controlPlane) serve(ctx context.Context, serviceCIDR string, hosts []string) error {
	slices.Sort(hosts)
	hosts = slices.Compact(hosts)
	if slices.Equal(cp.hosts, hosts) {
		return nil
	}
	if err := cp.writeServingCert(serviceCIDR, hosts); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, servingReloadTimeout)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		for _, h := range hosts {
			d := tls.Dialer{Config: &tls.Config{RootCAs: pool(cp.ca), ServerName: h, MinVersion: tls.VersionTLS12}}
			conn, err := d.DialContext(ctx, "tcp", cp.addr)
			if err != nil {
				return false, nil
			}
			_ = conn.Close()
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("the guest API server did not serve a certificate for %v within %s: %w", hosts, servingReloadTimeout, err)
	}
	return nil
}

// stop ends the processes; with deleteData it also deletes the guest's
// data from etcd and its directory (the cluster's last control-plane VM
// is gone).
func (cp *controlPlane) stop(ctx context.Context, deleteData bool, etcdServers []string) error {
	errs := []error{cp.controllerManager.stop(), cp.apiServer.stop()}
	cp.controllerManager, cp.apiServer = nil, nil
	if deleteData {
		errs = append(errs, deleteEtcdPrefix(ctx, etcdServers, cp.prefix), os.RemoveAll(cp.dir))
	}
	return errors.Join(errs...)
}

// etcdPrefix is where a guest's API server keeps its data in the shared
// etcd, apart from the supervisor's /registry and every other guest.
func etcdPrefix(c *guestCluster) string {
	return "/guests/" + c.key.Namespace + "/" + c.key.Name
}

// deleteEtcdPrefix deletes every key under prefix/.
func deleteEtcdPrefix(ctx context.Context, servers []string, prefix string) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: servers, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("failed to connect to etcd to delete %s: %w", prefix, err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := cli.Delete(ctx, prefix+"/", clientv3.WithPrefix()); err != nil {
		return fmt.Errorf("failed to delete the guest data under %s: %w", prefix, err)
	}
	return nil
}

// writeFileAtomic replaces path in one rename, so that a process watching
// it never reads half of it.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}

// controlPlaneDir is where cluster c's control plane keeps its files.
func (s *Simulator) controlPlaneDir(c *guestCluster) string {
	return filepath.Join(s.opts.StateDir, c.key.Namespace+"-"+c.key.Name)
}
