package tanzukubernetescluster

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/utils/ptr"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// Where node setup puts its files, as Tanzu Kubernetes Grid's node images
// expect them: containerd reads a systemd drop-in for its proxy, and extra
// CAs go into the system trust store before kubeadm pulls anything.
const (
	containerdProxyFile = "/etc/systemd/system/containerd.service.d/http-proxy.conf"
	trustedCADir        = "/etc/ssl/certs"
)

// nodeSetup is what every node of a cluster runs before kubeadm: the
// cluster's proxy for containerd and its additional trusted CAs. It is the
// same on every pool, so changing either rolls all machines.
type nodeSetup struct {
	files    []bootstrapv1.File
	commands []string
}

func nodeSetupOf(tkc *runv1alpha3.TanzuKubernetesCluster, net network) nodeSetup {
	var s nodeSetup
	var n runv1alpha3.Network
	if tkc.Spec.Settings != nil && tkc.Spec.Settings.Network != nil {
		n = *tkc.Spec.Settings.Network
	}
	restartContainerd := false
	if p := n.Proxy; p != nil && (p.HttpProxy != nil || p.HttpsProxy != nil) {
		s.files = append(s.files, bootstrapv1.File{
			Path: containerdProxyFile, Owner: "root:root", Permissions: "0644",
			Content: containerdProxy(p, net),
		})
		restartContainerd = true
	}
	if t := n.Trust; t != nil && len(t.AdditionalTrustedCAs) > 0 {
		for _, ca := range t.AdditionalTrustedCAs {
			s.files = append(s.files, bootstrapv1.File{
				Path: trustedCAPath(ca.Name), Owner: "root:root", Permissions: "0644",
				Encoding: bootstrapv1.Base64, Content: ca.Data,
			})
		}
		// Photon (rehash_ca_certificates.sh) and Ubuntu (update-ca-certificates)
		// node images each have one of the two.
		s.commands = append(s.commands,
			"! which rehash_ca_certificates.sh 2>/dev/null || rehash_ca_certificates.sh",
			fmt.Sprintf("! which update-ca-certificates 2>/dev/null || (for f in %s/tkg-custom-ca-*.pem; do cp \"$f\" /usr/local/share/ca-certificates/$(basename \"$f\" .pem).crt; done && update-ca-certificates)", trustedCADir))
		restartContainerd = true
	}
	if restartContainerd {
		s.commands = append(s.commands, "systemctl daemon-reload", "systemctl restart containerd")
	}
	return s
}

func trustedCAPath(name string) string {
	return fmt.Sprintf("%s/tkg-custom-ca-%s.pem", trustedCADir, name)
}

// containerdProxy is the systemd drop-in giving containerd the proxy. The
// cluster's own ranges and names never go through it: pods, services, the
// service domain and the node itself.
func containerdProxy(p *runv1alpha3.ProxyConfiguration, net network) string {
	noProxy := slices.Clone(p.NoProxy)
	noProxy = append(noProxy, net.pods...)
	noProxy = append(noProxy, net.services...)
	noProxy = append(noProxy, "."+net.serviceDomain, "localhost", "127.0.0.1")
	seen := map[string]bool{}
	noProxy = slices.DeleteFunc(noProxy, func(s string) bool {
		dup := seen[s]
		seen[s] = true
		return dup
	})
	var b strings.Builder
	b.WriteString("[Service]\n")
	if p.HttpProxy != nil {
		fmt.Fprintf(&b, "Environment=\"HTTP_PROXY=%s\"\n", *p.HttpProxy)
	}
	if p.HttpsProxy != nil {
		fmt.Fprintf(&b, "Environment=\"HTTPS_PROXY=%s\"\n", *p.HttpsProxy)
	}
	fmt.Fprintf(&b, "Environment=\"NO_PROXY=%s\"\n", strings.Join(noProxy, ","))
	return b.String()
}

// apply adds the setup to a kubeadm config spec.
func (s nodeSetup) apply(spec *bootstrapv1.KubeadmConfigSpec) {
	spec.Files = append(spec.Files, s.files...)
	spec.PreKubeadmCommands = append(spec.PreKubeadmCommands, s.commands...)
}

// volumeDevice is the guest device of a pool's i-th volume: the VM service
// attaches them after the boot disk, in order, on the first SCSI controller.
func volumeDevice(i int) string { return "/dev/sd" + string(rune('b'+i)) }

// addVolumes formats each volume's disk with its name as the label and
// mounts it at its path before kubeadm runs, as TKG's node images expect
// (e.g. /var/lib/containerd or /var/lib/etcd).
func addVolumes(spec *bootstrapv1.KubeadmConfigSpec, volumes []runv1alpha3.Volume) {
	for i, v := range volumes {
		dev := volumeDevice(i)
		spec.DiskSetup.Partitions = append(spec.DiskSetup.Partitions, bootstrapv1.Partition{
			Device: dev, Layout: ptr.To(true), Overwrite: ptr.To(false), TableType: "gpt"})
		spec.DiskSetup.Filesystems = append(spec.DiskSetup.Filesystems, bootstrapv1.Filesystem{
			Device: dev + "1", Filesystem: "ext4", Label: v.Name, Overwrite: ptr.To(false)})
		spec.Mounts = append(spec.Mounts, bootstrapv1.MountPoints{"LABEL=" + v.Name, v.MountPath})
	}
}

// machineVolumes are a pool's volumes for its VSphereMachines; a volume
// without a storage class takes the pool's.
func machineVolumes(s runv1alpha3.TopologySettings) []vmwarev1.VSphereMachineVolume {
	var out []vmwarev1.VSphereMachineVolume
	for _, v := range s.Volumes {
		class := v.StorageClass
		if class == "" {
			class = s.StorageClass
		}
		out = append(out, vmwarev1.VSphereMachineVolume{Name: v.Name, Capacity: v.Capacity.DeepCopy(), StorageClass: class})
	}
	return out
}
