package vmconfigspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/vmware/govmomi/vim25/types"
)

// Applied are the configSpec fields (vim25 JSON names) the VM service
// applies to a clone.
var Applied = []string{"extraConfig", "deviceChange", "annotation", "firmware"}

// Decode reads a configSpec written in vim25 JSON (as vm-operator and
// govc write it, with _typeName discriminators).
func Decode(raw []byte) (spec *types.VirtualMachineConfigSpec, err error) {
	// vim25's decoder panics on some malformed input; plain JSON is
	// checked first, and a panic is an error too.
	if !json.Valid(raw) {
		return nil, fmt.Errorf("is not valid JSON")
	}
	defer func() {
		if p := recover(); p != nil {
			spec, err = nil, fmt.Errorf("is not a vim25 VirtualMachineConfigSpec: %v", p)
		}
	}()
	spec = &types.VirtualMachineConfigSpec{}
	if err := types.NewJSONDecoder(bytes.NewReader(raw)).Decode(spec); err != nil {
		return nil, fmt.Errorf("is not a vim25 VirtualMachineConfigSpec: %w", err)
	}
	return spec, nil
}

// Check decodes raw and returns what the VM service cannot apply: the
// names of fields other than Applied, and device changes other than adds.
func Check(raw []byte) (*types.VirtualMachineConfigSpec, []string, error) {
	spec, err := Decode(raw)
	if err != nil {
		return nil, nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, nil, fmt.Errorf("is not a JSON object: %w", err)
	}
	var refused []string
	for name := range fields {
		if name != "_typeName" && !slices.Contains(Applied, name) {
			refused = append(refused, name)
		}
	}
	slices.Sort(refused)
	for i, c := range spec.DeviceChange {
		dc := c.GetVirtualDeviceConfigSpec()
		if dc.Operation != types.VirtualDeviceConfigSpecOperationAdd || dc.FileOperation != "" {
			refused = append(refused, fmt.Sprintf("deviceChange[%d] (only additions of devices without files are applied)", i))
		}
	}
	return spec, refused, nil
}
