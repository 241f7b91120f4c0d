package namespace

import "testing"

func TestDefaultClasses(t *testing.T) {
	classes := DefaultClasses("ns1")
	if len(classes) != 16 {
		t.Fatalf("want 16 default classes, got %d", len(classes))
	}
	byName := map[string]int{}
	for i, c := range classes {
		byName[c.Name] = i
		if c.Namespace != "ns1" {
			t.Errorf("%s in namespace %q", c.Name, c.Namespace)
		}
	}
	small := classes[byName["guaranteed-small"]]
	if small.Spec.Hardware.Cpus != 2 || small.Spec.Hardware.Memory.String() != "4Gi" {
		t.Errorf("guaranteed-small = %d CPU / %s", small.Spec.Hardware.Cpus, small.Spec.Hardware.Memory.String())
	}
	if small.Spec.Policies.Resources.Requests.Cpu.Value() != 2 || small.Spec.Policies.Resources.Requests.Memory.String() != "4Gi" {
		t.Errorf("guaranteed-small must reserve all of it, requests = %+v", small.Spec.Policies.Resources.Requests)
	}
	be := classes[byName["best-effort-8xlarge"]]
	if be.Spec.Hardware.Cpus != 32 || be.Spec.Hardware.Memory.String() != "128Gi" || !be.Spec.Policies.Resources.Requests.Cpu.IsZero() {
		t.Errorf("best-effort-8xlarge = %+v", be.Spec)
	}
}
