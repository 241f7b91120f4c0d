package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/embedded/kube"
	"github.com/open-supervisor/supervisor/test/wait"
)

// govc runs govc with the state directory's environment, as a user who
// sourced it does.
func govc(t *testing.T, args ...string) string {
	t.Helper()
	assets, err := kube.FindAssets()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(assets, "govc"), args...)
	cmd.Env = os.Environ()
	for k, v := range readEnv(t) {
		if strings.HasPrefix(k, "GOVC_") {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("govc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// make run enabled Workload Management through the REST API; govc's
// namespace commands work against the stack's vCenter URL with no other
// setting, and what they create and delete shows in Kubernetes.
func TestWorkloadManagementThroughGovc(t *testing.T) {
	c := supervisor.client
	ctx := context.Background()
	var sups vspherev1.SupervisorList
	if err := c.List(ctx, &sups); err != nil || len(sups.Items) != 1 {
		t.Fatalf("want the one Supervisor make run enabled: %d (%v)", len(sups.Items), err)
	}
	if out := govc(t, "namespace.cluster.ls", "-json"); !strings.Contains(out, `"cluster": "`+sups.Items[0].Name+`"`) || !strings.Contains(out, `"config_status": "RUNNING"`) {
		t.Errorf("govc namespace.cluster.ls does not list %s:\n%s", sups.Items[0].Name, out)
	}
	if out := govc(t, "namespace.ls"); !strings.Contains(out, "ns1") {
		t.Errorf("govc namespace.ls does not list ns1:\n%s", out)
	}
	if out := govc(t, "namespace.vmclass.ls"); !strings.Contains(out, "best-effort-small") {
		t.Errorf("govc namespace.vmclass.ls does not list the default classes:\n%s", out)
	}

	govc(t, "namespace.vmclass.create", "-cpus", "2", "-memory", "2048", "e2e-govc-class")
	defer govc(t, "namespace.vmclass.rm", "e2e-govc-class")
	govc(t, "namespace.create", "-cluster", "DC0_C0", "-storage", "k8s-storage", "-vmclass", "e2e-govc-class", "e2e-govc")
	wait.For(t, time.Minute, "namespace e2e-govc with exactly its class", func() (bool, error) {
		var classes vmopv1.VirtualMachineClassList
		if err := c.List(ctx, &classes, client.InNamespace("e2e-govc")); err != nil {
			return false, err
		}
		if len(classes.Items) != 1 || classes.Items[0].Name != "e2e-govc-class" || classes.Items[0].Spec.Hardware.Cpus != 2 {
			return false, fmt.Errorf("%d classes", len(classes.Items))
		}
		return true, nil
	})
	if out := govc(t, "namespace.info", "e2e-govc"); !strings.Contains(out, "e2e-govc-class") {
		t.Errorf("govc namespace.info does not show the class:\n%s", out)
	}
	govc(t, "namespace.rm", "e2e-govc")
	wait.For(t, 2*time.Minute, "namespace e2e-govc gone", func() (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: "e2e-govc"}, &corev1.Namespace{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// The supervisor endpoint (the first VIP) answers TLS with the
// certificate Clusters.Info reports, valid for the VIP, and kubectl works
// through it.
func TestSupervisorEndpoint(t *testing.T) {
	hc, base, session := adminSession(t)
	var sups vspherev1.SupervisorList
	if err := supervisor.client.List(context.Background(), &sups); err != nil || len(sups.Items) != 1 {
		t.Fatalf("supervisors: %d (%v)", len(sups.Items), err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/vcenter/namespace-management/clusters/"+sups.Items[0].Name, nil)
	req.Header.Set("vmware-api-session-id", session)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var info struct {
		ConfigStatus string `json:"config_status"`
		Endpoint     string `json:"api_server_cluster_endpoint"`
		Certificate  string `json:"tls_endpoint_certificate"`
	}
	if err := json.Unmarshal(body, &info); err != nil || info.ConfigStatus != "RUNNING" || info.Endpoint == "" || info.Certificate == "" {
		t.Fatalf("Clusters.Info: %s (%v)", body, err)
	}
	block, _ := pem.Decode([]byte(info.Certificate))
	if block == nil {
		t.Fatalf("tls_endpoint_certificate is not PEM: %q", info.Certificate)
	}
	reported, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(supervisor.dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(cfg.CAData)
	addr := net.JoinHostPort(info.Endpoint, "6443")
	wait.For(t, time.Minute, "TLS through the endpoint VIP", func() (bool, error) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: info.Endpoint, MinVersion: tls.VersionTLS12})
		if err != nil {
			return false, err
		}
		defer conn.Close()
		if !conn.ConnectionState().PeerCertificates[0].Equal(reported) {
			return false, fmt.Errorf("%s serves another certificate than Clusters.Info reports", addr)
		}
		return true, nil
	})
	through := rest.CopyConfig(cfg)
	through.Host = "https://" + addr
	c, err := client.New(through, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var nss corev1.NamespaceList
	if err := c.List(context.Background(), &nss); err != nil {
		t.Fatalf("kubectl through the endpoint VIP: %v", err)
	}
}

// adminSession logs in to the stack's vCenter URL (the front) as the
// vCenter admin, as a user who sourced the env file does, and returns a
// client trusting it, the URL and the session.
func adminSession(t *testing.T) (*http.Client, string, string) {
	t.Helper()
	env := readEnv(t)
	ca, err := os.ReadFile(env["GOVC_TLS_CA_CERTS"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	base := strings.TrimSuffix(env["GOVC_URL"], "/sdk")
	req, _ := http.NewRequest(http.MethodPost, base+"/api/session", nil)
	req.SetBasicAuth(env["GOVC_USERNAME"], env["GOVC_PASSWORD"])
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var session string
	_ = json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || session == "" {
		t.Fatalf("login: %s", resp.Status)
	}
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, base+"/api/session", nil)
		req.Header.Set("vmware-api-session-id", session)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	return hc, base, session
}
