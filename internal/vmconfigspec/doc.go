// Package vmconfigspec reads a VirtualMachineClass's spec.configSpec, a
// vSphere VirtualMachineConfigSpec in vim25 JSON, and says which of its
// fields the VM service applies to a clone. The webhook refuses a class
// whose configSpec has any other field, and the VM service applies the
// rest, so that nothing in it is accepted and ignored.
package vmconfigspec
