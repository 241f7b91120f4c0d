package vspherenamespace

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// Names of the ResourceQuotas a vSphere Namespace gets.
const (
	// StorageQuotaName grants the namespace its storage policies' classes.
	StorageQuotaName = "vsphere-storage"
	// ResourceQuotaName carries resource_spec's CPU, memory and storage limits.
	ResourceQuotaName = "vsphere-resources"
)

// StorageQuotaSuffix ends the quota resource through which vSphere grants a
// namespace a StorageClass: <class>.storageclass.storage.k8s.io/requests.storage.
// controllers/tanzukubernetescluster reads the namespace's classes from it.
const StorageQuotaSuffix = ".storageclass.storage.k8s.io/requests.storage"

// DefaultCPUMHzPerCore is the CPU frequency that turns resource_spec's MHz
// into Kubernetes CPUs when none is configured: 1000 MHz is one CPU, so a
// limit of 1 MHz is one millicore.
const DefaultCPUMHzPerCore = 1000

// Unlimited is the quota of a storage policy without a limit. vSphere
// writes the largest quantity rather than leaving the entry out, because
// the entry is what grants the class to the namespace. (A function: a
// Quantity caches its string in itself, so a shared one would race.)
func Unlimited() resource.Quantity {
	return *resource.NewQuantity(math.MaxInt64, resource.BinarySI)
}

// StorageQuotaResource is the quota resource granting class.
func StorageQuotaResource(class string) corev1.ResourceName {
	return corev1.ResourceName(class + StorageQuotaSuffix)
}

// mib is n MiB as a quantity.
func mib(n int64) resource.Quantity {
	return *resource.NewQuantity(n*1024*1024, resource.BinarySI)
}

// storageLimit is a policy's quota: its limit in MiB, or Unlimited when
// the limit is unset or 0 (the API's "no limit").
func storageLimit(limitMiB *int64) resource.Quantity {
	if limitMiB == nil || *limitMiB <= 0 {
		return Unlimited()
	}
	return mib(*limitMiB)
}

// CPULimit converts a CPU limit in MHz into Kubernetes CPUs at mhzPerCore
// MHz per CPU (DefaultCPUMHzPerCore when not positive), in millicores,
// rounded down but never below one millicore.
func CPULimit(mhz, mhzPerCore int64) resource.Quantity {
	if mhzPerCore <= 0 {
		mhzPerCore = DefaultCPUMHzPerCore
	}
	milli := mhz * 1000 / mhzPerCore
	if milli < 1 {
		milli = 1
	}
	return *resource.NewMilliQuantity(milli, resource.DecimalSI)
}

// resourceHard is the quota of resource_spec: limits.cpu from the CPU
// limit in MHz, limits.memory from the memory limit and requests.storage
// from the storage request limit, each only when set and positive.
func resourceHard(spec vspherev1.ResourceSpec, mhzPerCore int64) corev1.ResourceList {
	hard := corev1.ResourceList{}
	if v := spec.CPULimitMHz; v != nil && *v > 0 {
		hard[corev1.ResourceLimitsCPU] = CPULimit(*v, mhzPerCore)
	}
	if v := spec.MemoryLimitMiB; v != nil && *v > 0 {
		hard[corev1.ResourceLimitsMemory] = mib(*v)
	}
	if v := spec.StorageRequestLimitMiB; v != nil && *v > 0 {
		hard[corev1.ResourceRequestsStorage] = mib(*v)
	}
	return hard
}
