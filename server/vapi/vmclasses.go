package vapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// configSpecAnnotation keeps a class's raw config_spec.
const configSpecAnnotation = "vmoperator.vmware.com/config-spec"

// VMClassSpec is VirtualMachineClasses.CreateSpec / UpdateSpec.
type VMClassSpec struct {
	ID                string          `json:"id,omitempty"`
	CPUCount          *int64          `json:"cpu_count,omitempty"`
	MemoryMB          *int64          `json:"memory_MB,omitempty"`
	MemoryMb          *int64          `json:"memory_mb,omitempty"`
	CPUReservation    *int64          `json:"cpu_reservation,omitempty"`
	MemoryReservation *int64          `json:"memory_reservation,omitempty"`
	Description       *string         `json:"description,omitempty"`
	Devices           json.RawMessage `json:"devices,omitempty"`
	InstanceStorage   json.RawMessage `json:"instance_storage,omitempty"`
	ConfigSpec        json.RawMessage `json:"config_spec,omitempty"`
}

// VMClassInfo is VirtualMachineClasses.Info.
type VMClassInfo struct {
	ID                string          `json:"id"`
	CPUCount          int64           `json:"cpu_count"`
	MemoryMB          int64           `json:"memory_mb"`
	CPUReservation    int64           `json:"cpu_reservation"`
	MemoryReservation int64           `json:"memory_reservation"`
	Description       string          `json:"description"`
	Namespaces        []string        `json:"namespaces"`
	VMs               []string        `json:"vms"`
	ConfigStatus      string          `json:"config_status"`
	Messages          []Message       `json:"messages"`
	ConfigSpec        json.RawMessage `json:"config_spec,omitempty"`
}

func (c *VMClassSpec) memory() *int64 {
	if c.MemoryMB != nil {
		return c.MemoryMB
	}
	return c.MemoryMb
}

// validate checks the fields given; create also requires id, CPUs and
// memory.
func (c *VMClassSpec) validate(create bool) error {
	var bad invalidArgs
	if create {
		if errs := validation.IsDNS1123Label(c.ID); len(errs) > 0 {
			bad.add("id", "%q is not a DNS label", c.ID)
		}
		if c.CPUCount == nil {
			bad.add("cpu_count", "is required")
		}
		if c.memory() == nil {
			bad.add("memory_MB", "is required")
		}
	}
	if c.CPUCount != nil && *c.CPUCount < 1 {
		bad.add("cpu_count", "must be at least 1, not %d", *c.CPUCount)
	}
	if m := c.memory(); m != nil && *m < 1 {
		bad.add("memory_MB", "must be at least 1, not %d", *m)
	}
	for field, p := range map[string]*int64{"cpu_reservation": c.CPUReservation, "memory_reservation": c.MemoryReservation} {
		if p != nil && (*p < 0 || *p > 100) {
			bad.add(field, "is a percentage, 0 to 100, not %d", *p)
		}
	}
	if len(c.ConfigSpec) > 0 && !json.Valid(c.ConfigSpec) {
		bad.add("config_spec", "is not JSON")
	}
	return bad.err()
}

// apply writes the given fields onto class.
func (c *VMClassSpec) apply(class *vmopv1.VirtualMachineClass) {
	hw := &class.Spec.Hardware
	if c.CPUCount != nil {
		hw.Cpus = *c.CPUCount
	}
	if m := c.memory(); m != nil {
		hw.Memory = *resource.NewQuantity(*m<<20, resource.BinarySI)
	}
	cpuPct, memPct := reservations(class)
	if c.CPUReservation != nil {
		cpuPct = *c.CPUReservation
	}
	if c.MemoryReservation != nil {
		memPct = *c.MemoryReservation
	}
	req := &class.Spec.Policies.Resources.Requests
	req.Cpu, req.Memory = resource.Quantity{}, resource.Quantity{}
	if cpuPct > 0 {
		req.Cpu = *resource.NewMilliQuantity(hw.Cpus*1000*cpuPct/100, resource.DecimalSI)
	}
	if memPct > 0 {
		req.Memory = *resource.NewQuantity(hw.Memory.Value()*memPct/100, resource.BinarySI)
	}
	if c.Description != nil {
		class.Spec.Description = *c.Description
	}
	if len(c.ConfigSpec) > 0 {
		if class.Annotations == nil {
			class.Annotations = map[string]string{}
		}
		class.Annotations[configSpecAnnotation] = string(c.ConfigSpec)
	}
}

// reservations are a class's requests as percentages of its hardware.
func reservations(class *vmopv1.VirtualMachineClass) (cpu, memory int64) {
	hw, req := class.Spec.Hardware, class.Spec.Policies.Resources.Requests
	if hw.Cpus > 0 {
		cpu = req.Cpu.MilliValue() * 100 / (hw.Cpus * 1000)
	}
	if m := hw.Memory.Value(); m > 0 {
		memory = req.Memory.Value() * 100 / m
	}
	return cpu, memory
}

func (s *Server) catalogClass(r *http.Request, id string) (*vmopv1.VirtualMachineClass, error) {
	class := &vmopv1.VirtualMachineClass{}
	err := s.opts.Client.Get(r.Context(), client.ObjectKey{Namespace: vspherev1.VMClassCatalogNamespace, Name: id}, class)
	if apierrors.IsNotFound(err) {
		return nil, newError(errNotFound, "vcenter.wcp.vmclass.notfound", "no VM class %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read VM class %s: %w", id, err)
	}
	return class, nil
}

func (s *Server) classInfo(r *http.Request, class *vmopv1.VirtualMachineClass) (VMClassInfo, error) {
	var copies vmopv1.VirtualMachineClassList
	if err := s.opts.Client.List(r.Context(), &copies); err != nil {
		return VMClassInfo{}, fmt.Errorf("failed to list VM classes: %w", err)
	}
	namespaces := []string{}
	for _, c := range copies.Items {
		if c.Name == class.Name && c.Namespace != vspherev1.VMClassCatalogNamespace {
			namespaces = append(namespaces, c.Namespace)
		}
	}
	return classInfoOf(class, namespaces), nil
}

func classInfoOf(class *vmopv1.VirtualMachineClass, namespaces []string) VMClassInfo {
	cpu, mem := reservations(class)
	info := VMClassInfo{
		ID: class.Name, CPUCount: class.Spec.Hardware.Cpus, MemoryMB: class.Spec.Hardware.Memory.Value() >> 20,
		CPUReservation: cpu, MemoryReservation: mem, Description: class.Spec.Description,
		Namespaces: namespaces, VMs: []string{}, ConfigStatus: "READY", Messages: []Message{},
	}
	if cs := class.Annotations[configSpecAnnotation]; cs != "" {
		info.ConfigSpec = json.RawMessage(cs)
	}
	return info
}

func (s *Server) listVMClasses(w http.ResponseWriter, r *http.Request) {
	var all vmopv1.VirtualMachineClassList
	if err := s.opts.Client.List(r.Context(), &all); err != nil {
		writeError(w, r, fmt.Errorf("failed to list VM classes: %w", err))
		return
	}
	namespaces := map[string][]string{}
	for _, c := range all.Items {
		if c.Namespace != vspherev1.VMClassCatalogNamespace {
			namespaces[c.Name] = append(namespaces[c.Name], c.Namespace)
		}
	}
	out := []VMClassInfo{}
	for i := range all.Items {
		if c := &all.Items[i]; c.Namespace == vspherev1.VMClassCatalogNamespace {
			out = append(out, classInfoOf(c, nonNil(namespaces[c.Name])))
		}
	}
	writeResult(w, r, out)
}

func (s *Server) createVMClass(w http.ResponseWriter, r *http.Request) {
	var spec VMClassSpec
	if err := readBody(r, &spec, "spec"); err != nil {
		writeError(w, r, err)
		return
	}
	if err := spec.validate(true); err != nil {
		writeError(w, r, err)
		return
	}
	// The controllers seed the catalog; a class made before they ran
	// makes its namespace.
	catalog := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: vspherev1.VMClassCatalogNamespace}}
	if err := s.opts.Client.Create(r.Context(), catalog); err != nil && !apierrors.IsAlreadyExists(err) {
		writeError(w, r, fmt.Errorf("failed to create namespace %s: %w", catalog.Name, err))
		return
	}
	class := &vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{Namespace: vspherev1.VMClassCatalogNamespace, Name: spec.ID}}
	spec.apply(class)
	if err := s.opts.Client.Create(r.Context(), class); err != nil {
		if apierrors.IsAlreadyExists(err) {
			writeError(w, r, newError(errAlreadyExists, "vcenter.wcp.vmclass.exists", "VM class %q already exists", spec.ID))
			return
		}
		writeError(w, r, fmt.Errorf("failed to create VM class %s: %w", spec.ID, err))
		return
	}
	writeDone(w, r)
}

func (s *Server) getVMClass(w http.ResponseWriter, r *http.Request) {
	class, err := s.catalogClass(r, r.PathValue("class"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	info, err := s.classInfo(r, class)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, r, info)
}

func (s *Server) updateVMClass(w http.ResponseWriter, r *http.Request) {
	var spec VMClassSpec
	if err := readBody(r, &spec, "spec"); err != nil {
		writeError(w, r, err)
		return
	}
	if err := spec.validate(false); err != nil {
		writeError(w, r, err)
		return
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		class, err := s.catalogClass(r, r.PathValue("class"))
		if err != nil {
			return err
		}
		spec.apply(class)
		return s.opts.Client.Update(r.Context(), class)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeDone(w, r)
}

func (s *Server) deleteVMClass(w http.ResponseWriter, r *http.Request) {
	class, err := s.catalogClass(r, r.PathValue("class"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.opts.Client.Delete(r.Context(), class); client.IgnoreNotFound(err) != nil {
		writeError(w, r, fmt.Errorf("failed to delete VM class %s: %w", class.Name, err))
		return
	}
	writeDone(w, r)
}
