package tanzukubernetescluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// testCA returns the base64 of a PEM CA certificate, as trust data holds it.
func testCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "harbor-ca"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func fileAt(files []bootstrapv1.File, path string) *bootstrapv1.File {
	for i := range files {
		if files[i].Path == path {
			return &files[i]
		}
	}
	return nil
}

// A cluster's proxy and trusted CAs reach every node's bootstrap: the
// control plane's and each pool's kubeadm config carry containerd's proxy
// drop-in and the CA files, with the commands that take them into use, and
// changing the trust gives the pools new templates so machines roll.
func TestProxyAndTrustReachEveryNode(t *testing.T) {
	tkc, plain := statusFixture(t)
	ca := testCA(t)
	tkc.Spec.Settings = &runv1alpha3.Settings{Network: &runv1alpha3.Network{
		Pods:  &runv1alpha3.NetworkRanges{CIDRBlocks: []string{"193.0.2.0/16"}},
		Proxy: &runv1alpha3.ProxyConfiguration{HttpProxy: ptr.To("http://127.0.0.1:3128"), HttpsProxy: ptr.To("http://127.0.0.1:3128"), NoProxy: []string{"127.0.0.0/8"}},
		Trust: &runv1alpha3.TrustConfiguration{AdditionalTrustedCAs: []runv1alpha3.TLSCertificate{{Name: "harbor-ca", Data: ca}}},
	}}
	o, err := desiredObjects(tkc, map[string]release{release118: {Name: release118, KubernetesVersion: "v1.18.20", Image: "img"}})
	if err != nil {
		t.Fatal(err)
	}
	specs := map[string]bootstrapv1.KubeadmConfigSpec{"control plane": o.ControlPlane.Spec.KubeadmConfigSpec}
	for _, ct := range o.ConfigTemplates {
		specs["pool template "+ct.Name] = ct.Spec.Template.Spec
	}
	for where, spec := range specs {
		proxy := fileAt(spec.Files, containerdProxyFile)
		if proxy == nil {
			t.Errorf("%s: no containerd proxy drop-in in %+v", where, spec.Files)
		} else {
			for _, want := range []string{`HTTP_PROXY=http://127.0.0.1:3128`, `HTTPS_PROXY=http://127.0.0.1:3128`,
				"NO_PROXY=127.0.0.0/8,193.0.0.0/16,10.96.0.0/12,.cluster.local,localhost"} {
				if !strings.Contains(proxy.Content, want) {
					t.Errorf("%s: the proxy drop-in lacks %q:\n%s", where, want, proxy.Content)
				}
			}
		}
		cert := fileAt(spec.Files, trustedCAPath("harbor-ca"))
		if cert == nil || cert.Encoding != bootstrapv1.Base64 || cert.Content != ca {
			t.Errorf("%s: the CA file is missing or not the trust data: %+v", where, cert)
		}
		if !strings.Contains(strings.Join(spec.PreKubeadmCommands, "\n"), "systemctl restart containerd") {
			t.Errorf("%s: containerd is not restarted to take the settings: %v", where, spec.PreKubeadmCommands)
		}
	}
	if o.ConfigTemplates[0].Name == plain.ConfigTemplates[0].Name {
		t.Error("adding trust must give the pool a new bootstrap template, so its machines roll")
	}
	if len(plain.ControlPlane.Spec.KubeadmConfigSpec.Files) != 0 || len(plain.ControlPlane.Spec.KubeadmConfigSpec.PreKubeadmCommands) != 0 {
		t.Error("a cluster without proxy or trust must not get node setup")
	}
}

// A pool's volumes become volumes of its machines (the pool's storage class
// when they name none) and are formatted and mounted by cloud-init before
// kubeadm, in the order the VM service attaches their disks.
func TestPoolVolumesReachMachinesAndBootstrap(t *testing.T) {
	tkc, plain := statusFixture(t)
	pool := &tkc.Spec.Topology.NodePools[0]
	pool.Volumes = []runv1alpha3.Volume{
		{Name: "containerd", MountPath: "/var/lib/containerd", Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("50Gi")}},
		{Name: "logs", MountPath: "/var/log", Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("8Gi")}, StorageClass: "fast"},
	}
	o, err := desiredObjects(tkc, map[string]release{release118: {Name: release118, KubernetesVersion: "v1.18.20", Image: "img"}})
	if err != nil {
		t.Fatal(err)
	}
	vols := o.MachineTemplates[1].Spec.Template.Spec.Volumes
	if len(vols) != 2 || vols[0].Name != "containerd" || vols[0].StorageClass != "k8s-storage" || vols[1].StorageClass != "fast" ||
		vols[0].Capacity.Storage().String() != "50Gi" {
		t.Errorf("machine template volumes %+v", vols)
	}
	if len(o.MachineTemplates[0].Spec.Template.Spec.Volumes) != 0 {
		t.Error("the control plane has no volumes of its own")
	}
	spec := o.ConfigTemplates[0].Spec.Template.Spec
	if len(spec.Mounts) != 2 || strings.Join(spec.Mounts[0], " ") != "LABEL=containerd /var/lib/containerd" ||
		strings.Join(spec.Mounts[1], " ") != "LABEL=logs /var/log" {
		t.Errorf("mounts %v", spec.Mounts)
	}
	fs := spec.DiskSetup.Filesystems
	if len(fs) != 2 || fs[0].Device != "/dev/sdb1" || fs[0].Label != "containerd" || fs[1].Device != "/dev/sdc1" ||
		len(spec.DiskSetup.Partitions) != 2 || spec.DiskSetup.Partitions[1].Device != "/dev/sdc" {
		t.Errorf("disk setup %+v", spec.DiskSetup)
	}
	if o.MachineTemplates[1].Name == plain.MachineTemplates[1].Name || o.ConfigTemplates[0].Name == plain.ConfigTemplates[0].Name {
		t.Error("adding volumes must give the pool new templates, so its machines roll")
	}
}
