package infrastructure

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// VolumeClaimName names the PersistentVolumeClaim of a machine's volume,
// as Cluster API Provider vSphere's supervisor mode does.
func VolumeClaimName(machine, volume string) string { return machine + "-" + volume }

// ensureVolumeClaims creates the claim of each of the machine's volumes,
// controlled by the machine so that the garbage collector deletes it with
// the machine. A claim's size and class are fixed once created, as a PVC's
// are.
func (r *MachineReconciler) ensureVolumeClaims(ctx context.Context, vm *vmwarev1.VSphereMachine) error {
	for _, vol := range vm.Spec.Volumes {
		class := vol.StorageClass
		if class == "" {
			class = vm.Spec.StorageClass
		}
		pvc := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Namespace: vm.Namespace, Name: VolumeClaimName(vm.Name, vol.Name), Labels: map[string]string{
				clusterv1.ClusterNameLabel: vm.Labels[clusterv1.ClusterNameLabel]}},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:        corev1.VolumeResourceRequirements{Requests: vol.Capacity},
				StorageClassName: ptr.To(class),
			},
		}
		if err := controllerutil.SetControllerReference(vm, pvc, r.Client.Scheme()); err != nil {
			return err
		}
		if err := r.Client.Create(ctx, pvc); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating PersistentVolumeClaim %s for volume %s: %w", pvc.Name, vol.Name, err)
		}
	}
	return nil
}

// virtualMachineVolumes are the machine's volumes as VM disks on their claims.
func virtualMachineVolumes(vm *vmwarev1.VSphereMachine) []vmopv1.VirtualMachineVolume {
	var out []vmopv1.VirtualMachineVolume
	for _, vol := range vm.Spec.Volumes {
		src := &vmopv1.PersistentVolumeClaimVolumeSource{}
		src.ClaimName = VolumeClaimName(vm.Name, vol.Name)
		out = append(out, vmopv1.VirtualMachineVolume{Name: vol.Name, PersistentVolumeClaim: src})
	}
	return out
}
