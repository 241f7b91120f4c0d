package namespace

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

// classSize is one row of vSphere's default VM class table.
type classSize struct {
	name   string
	cpus   int64
	memory string
}

var defaultSizes = []classSize{
	{"xsmall", 2, "2Gi"},
	{"small", 2, "4Gi"},
	{"medium", 2, "8Gi"},
	{"large", 4, "16Gi"},
	{"xlarge", 4, "32Gi"},
	{"2xlarge", 8, "64Gi"},
	{"4xlarge", 16, "128Gi"},
	{"8xlarge", 32, "128Gi"},
}

// DefaultClasses returns the 16 default classes for a namespace:
// guaranteed-<size> reserves all CPU and memory, best-effort-<size> none.
func DefaultClasses(namespace string) []*vmopv1.VirtualMachineClass {
	out := make([]*vmopv1.VirtualMachineClass, 0, 2*len(defaultSizes))
	for _, s := range defaultSizes {
		mem := resource.MustParse(s.memory)
		cpu := *resource.NewQuantity(s.cpus, resource.DecimalSI)
		for _, guaranteed := range []bool{true, false} {
			c := &vmopv1.VirtualMachineClass{
				ObjectMeta: metav1.ObjectMeta{Namespace: namespace},
				Spec: vmopv1.VirtualMachineClassSpec{
					Hardware: vmopv1.VirtualMachineClassHardware{Cpus: s.cpus, Memory: mem},
				},
			}
			if guaranteed {
				c.Name = "guaranteed-" + s.name
				c.Spec.Policies.Resources.Requests = vmopv1.VirtualMachineResourceSpec{Cpu: cpu, Memory: mem}
				c.Spec.Description = fmt.Sprintf("%d vCPUs and %s of memory, fully reserved", s.cpus, s.memory)
			} else {
				c.Name = "best-effort-" + s.name
				c.Spec.Description = fmt.Sprintf("%d vCPUs and %s of memory, nothing reserved", s.cpus, s.memory)
			}
			out = append(out, c)
		}
	}
	return out
}
