package rules

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ControlPlaneSizes are the control-plane sizes vSphere offers: etcd needs an
// odd number of members, and 5 or more is not supported.
var ControlPlaneSizes = []int32{1, 3}

// ValidateControlPlaneCount checks the number of control-plane nodes.
func ValidateControlPlaneCount(path *field.Path, n int32) field.ErrorList {
	if slices.Contains(ControlPlaneSizes, n) {
		return nil
	}
	return field.ErrorList{field.NotSupported(path, n, []string{"1", "3"})}
}

// ValidateWorkerCount checks the number of nodes of a worker pool.
func ValidateWorkerCount(path *field.Path, n int32) field.ErrorList {
	if n >= 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(path, n, "must not be negative")}
}

// ValidateVMClass checks that the class is bound to the cluster's namespace.
func ValidateVMClass(path *field.Path, class string, bound []string) field.ErrorList {
	return oneOf(path, class, bound, "VirtualMachineClass", "bound to the namespace")
}

// ValidateStorageClass checks that the namespace may use the storage class.
func ValidateStorageClass(path *field.Path, class string, allowed []string) field.ErrorList {
	return oneOf(path, class, allowed, "StorageClass", "assigned to the namespace")
}

// ValidateStorageSettings checks spec.settings.storage: every class exposed
// in the cluster, and its default, must be usable in the namespace, and the
// default must be among the exposed classes when those are listed.
func ValidateStorageSettings(path *field.Path, classes []string, defaultClass string, allowed []string) field.ErrorList {
	var errs field.ErrorList
	for i, c := range classes {
		errs = append(errs, ValidateStorageClass(path.Child("classes").Index(i), c, allowed)...)
	}
	if defaultClass == "" {
		return errs
	}
	if len(classes) > 0 && !slices.Contains(classes, defaultClass) {
		return append(errs, field.Invalid(path.Child("defaultClass"), defaultClass, "must be one of spec.settings.storage.classes"))
	}
	return append(errs, ValidateStorageClass(path.Child("defaultClass"), defaultClass, allowed)...)
}

func oneOf(path *field.Path, name string, allowed []string, kind, where string) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	if slices.Contains(allowed, name) {
		return nil
	}
	err := field.NotFound(path, name)
	err.Detail = fmt.Sprintf("no %s of this name is %s (there are: %s)", kind, where, strings.Join(allowed, ", "))
	return field.ErrorList{err}
}

// ValidateUniqueName checks a list entry's name at path: valid by valid
// (a validation.IsDNS1123* function) and not seen before in the list.
func ValidateUniqueName(path *field.Path, name string, seen sets.Set[string], valid func(string) []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range valid(name) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	if seen.Has(name) {
		errs = append(errs, field.Duplicate(path, name))
	}
	seen.Insert(name)
	return errs
}
