package vspherenamespace

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

func TestCPULimit(t *testing.T) {
	for _, tc := range []struct {
		mhz, perCore int64
		want         string
	}{
		{5000, 0, "5"}, // the default: 1000 MHz per CPU
		{1500, 1000, "1500m"},
		{4600, 2300, "2"}, // a 2.3 GHz host
		{1, 2300, "1m"},   // never rounds to nothing
		{10000, 3000, "3333m"},
	} {
		if got := CPULimit(tc.mhz, tc.perCore); got.String() != tc.want {
			t.Errorf("CPULimit(%d MHz, %d MHz/CPU) = %s, want %s", tc.mhz, tc.perCore, got.String(), tc.want)
		}
	}
}

func TestResourceHard(t *testing.T) {
	hard := resourceHard(vspherev1.ResourceSpec{CPULimitMHz: ptr.To[int64](2000), MemoryLimitMiB: ptr.To[int64](4096), StorageRequestLimitMiB: ptr.To[int64](0)}, 0)
	if len(hard) != 2 {
		t.Fatalf("hard = %v, want CPU and memory only (a 0 storage limit is no limit)", hard)
	}
	if cpu := hard[corev1.ResourceLimitsCPU]; cpu.String() != "2" {
		t.Errorf("limits.cpu = %s", cpu.String())
	}
	if mem := hard[corev1.ResourceLimitsMemory]; mem.String() != "4Gi" {
		t.Errorf("limits.memory = %s", mem.String())
	}
	if len(resourceHard(vspherev1.ResourceSpec{}, 0)) != 0 {
		t.Error("an empty resource_spec must give no quota")
	}
}

func TestStorageLimit(t *testing.T) {
	if got := storageLimit(ptr.To[int64](10240)); got.String() != "10Gi" {
		t.Errorf("10240 MiB = %s", got.String())
	}
	for _, unlimited := range []*int64{nil, ptr.To[int64](0)} {
		if got := storageLimit(unlimited); got.Cmp(Unlimited()) != 0 {
			t.Errorf("no limit = %s, want the largest quantity", got.String())
		}
	}
	if StorageQuotaResource("k8s-storage") != "k8s-storage.storageclass.storage.k8s.io/requests.storage" {
		t.Error(StorageQuotaResource("k8s-storage"))
	}
}
