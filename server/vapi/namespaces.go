package vapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
)

// AccessEntry is one access_list entry.
type AccessEntry struct {
	SubjectType      string `json:"subject_type"`
	Subject          string `json:"subject"`
	Domain           string `json:"domain"`
	Role             string `json:"role"`
	IdentityProvider string `json:"identity_provider,omitempty"`
}

// StorageSpecWire is one storage_specs entry (limit in MiB).
type StorageSpecWire struct {
	Policy string `json:"policy"`
	Limit  *int64 `json:"limit,omitempty"`
}

// VMServiceSpecWire is vm_service_spec.
type VMServiceSpecWire struct {
	VMClasses        []string `json:"vm_classes"`
	ContentLibraries []string `json:"content_libraries"`
}

// NamespaceSpec is Namespaces.Instances.CreateSpec (and, with its fields
// optional, UpdateSpec and SetSpec).
type NamespaceSpec struct {
	Cluster       string             `json:"cluster,omitempty"`
	Namespace     string             `json:"namespace,omitempty"`
	Description   *string            `json:"description,omitempty"`
	ResourceSpec  map[string]int64   `json:"resource_spec,omitempty"`
	AccessList    []AccessEntry      `json:"access_list,omitempty"`
	StorageSpecs  []StorageSpecWire  `json:"storage_specs,omitempty"`
	Networks      []string           `json:"networks,omitempty"`
	VMServiceSpec *VMServiceSpecWire `json:"vm_service_spec,omitempty"`
	Creator       json.RawMessage    `json:"creator,omitempty"`
	NamespaceNet  json.RawMessage    `json:"namespace_network,omitempty"`
	ContentLibs   json.RawMessage    `json:"content_libraries,omitempty"`
	SelfServiceNS *bool              `json:"self_service_namespace,omitempty"`
}

// NamespaceInfo is Namespaces.Instances.Info.
type NamespaceInfo struct {
	Cluster              string            `json:"cluster"`
	Namespace            string            `json:"namespace,omitempty"`
	ConfigStatus         string            `json:"config_status"`
	Description          string            `json:"description"`
	Stats                map[string]int64  `json:"stats"`
	SelfServiceNamespace bool              `json:"self_service_namespace"`
	Messages             []StatusMessage   `json:"messages"`
	VMServiceSpec        VMServiceSpecWire `json:"vm_service_spec"`
	StorageSpecs         []StorageSpecWire `json:"storage_specs"`
	AccessList           []AccessEntry     `json:"access_list"`
	Networks             []string          `json:"networks"`
	ResourceSpec         map[string]int64  `json:"resource_spec"`
}

// resourceKeys map resource_spec's keys to the spec's limits.
var resourceKeys = map[string]func(*vspherev1.ResourceSpec) **int64{
	"cpu_limit":             func(r *vspherev1.ResourceSpec) **int64 { return &r.CPULimitMHz },
	"memory_limit":          func(r *vspherev1.ResourceSpec) **int64 { return &r.MemoryLimitMiB },
	"storage_request_limit": func(r *vspherev1.ResourceSpec) **int64 { return &r.StorageRequestLimitMiB },
}

func validRole(r string) bool {
	return r == vspherev1.RoleOwner || r == vspherev1.RoleEdit || r == vspherev1.RoleView
}

func validSubjectType(t string) bool {
	return t == vspherev1.SubjectTypeUser || t == vspherev1.SubjectTypeGroup
}

// validateNamespace checks what spec gives against what exists; create
// also requires cluster and namespace. Content libraries are looked up in
// vCenter with the caller's session.
func (s *Server) validateNamespace(ctx context.Context, session string, spec *NamespaceSpec, cluster string, create bool) error {
	var bad invalidArgs
	var sup *vspherev1.Supervisor
	if create {
		if errs := validation.IsDNS1123Label(spec.Namespace); len(errs) > 0 {
			bad.add("namespace", "%q is not a DNS label of at most 63 characters: %s", spec.Namespace, strings.Join(errs, "; "))
		}
		if spec.Cluster == "" {
			bad.add("cluster", "is required")
		}
	}
	if cluster != "" {
		var err error
		if sup, err = s.supervisor(ctx, cluster); err != nil {
			bad.add("cluster", "Workload Management is not enabled on cluster %q", cluster)
		}
	}
	if sup != nil {
		networks := map[string]bool{}
		for _, n := range sup.Spec.WorkloadNetworks() {
			networks[n.Name] = true
		}
		for i, n := range spec.Networks {
			if !networks[n] {
				bad.add(fmt.Sprintf("networks[%d]", i), "cluster %s has no workload network %q", cluster, n)
			}
		}
	}
	if len(spec.NamespaceNet) > 0 && string(spec.NamespaceNet) != "null" {
		bad.add("namespace_network", "NSX networking is not supported; name workload networks in networks")
	}
	for k, v := range spec.ResourceSpec {
		if _, ok := resourceKeys[k]; !ok {
			bad.add("resource_spec."+k, "unknown limit; want cpu_limit, memory_limit or storage_request_limit")
		} else if v < 0 {
			bad.add("resource_spec."+k, "must not be negative, not %d", v)
		}
	}
	for i, a := range spec.AccessList {
		f := fmt.Sprintf("access_list[%d]", i)
		if !validSubjectType(a.SubjectType) {
			bad.add(f+".subject_type", "want USER or GROUP, not %q", a.SubjectType)
		}
		if !validRole(a.Role) {
			bad.add(f+".role", "want OWNER, EDIT or VIEW, not %q", a.Role)
		}
		if a.Subject == "" {
			bad.add(f+".subject", "is required")
		}
		if a.Domain == "" {
			bad.add(f+".domain", "is required")
		}
	}
	if spec.VMServiceSpec != nil {
		for i, id := range spec.VMServiceSpec.ContentLibraries {
			s.validateLibrary(ctx, &bad, session, fmt.Sprintf("vm_service_spec.content_libraries[%d]", i), id)
		}
		for i, name := range spec.VMServiceSpec.VMClasses {
			err := s.opts.Client.Get(ctx, client.ObjectKey{Namespace: vspherev1.VMClassCatalogNamespace, Name: name}, &vmopv1.VirtualMachineClass{})
			if apierrors.IsNotFound(err) {
				bad.add(fmt.Sprintf("vm_service_spec.vm_classes[%d]", i), "no VM class %q", name)
			} else if err != nil {
				return fmt.Errorf("failed to read VM class %s: %w", name, err)
			}
		}
	}
	if len(spec.StorageSpecs) > 0 {
		ids := make([]string, 0, len(spec.StorageSpecs))
		for _, sp := range spec.StorageSpecs {
			ids = append(ids, sp.Policy)
		}
		policies, err := s.opts.StoragePolicies.Policies(ctx, ids...)
		if err != nil {
			return err
		}
		for i, sp := range spec.StorageSpecs {
			if _, ok := storagepolicy.ByID(policies, sp.Policy); !ok {
				bad.add(fmt.Sprintf("storage_specs[%d].policy", i), "vCenter has no storage policy with id %q", sp.Policy)
			}
			if sp.Limit != nil && *sp.Limit < 0 {
				bad.add(fmt.Sprintf("storage_specs[%d].limit", i), "must not be negative, not %d", *sp.Limit)
			}
		}
	}
	return bad.err()
}

// applyNamespace writes what spec gives onto vns; replace (PUT) also
// clears what it leaves out.
func applyNamespace(vns *vspherev1.VSphereNamespace, spec *NamespaceSpec, replace bool) {
	out := &vns.Spec
	if spec.Description != nil || replace {
		out.Description = ""
		if spec.Description != nil {
			out.Description = *spec.Description
		}
	}
	if spec.ResourceSpec != nil || replace {
		out.ResourceSpec = vspherev1.ResourceSpec{}
		for k, v := range spec.ResourceSpec {
			v := v
			*resourceKeys[k](&out.ResourceSpec) = &v
		}
	}
	if spec.AccessList != nil || replace {
		out.AccessList = nil
		for _, a := range spec.AccessList {
			out.AccessList = append(out.AccessList, vspherev1.Access{SubjectType: a.SubjectType, Subject: a.Subject, Domain: a.Domain, Role: a.Role})
		}
	}
	if spec.StorageSpecs != nil || replace {
		out.StorageSpecs = nil
		for _, sp := range spec.StorageSpecs {
			out.StorageSpecs = append(out.StorageSpecs, vspherev1.StorageSpec{Policy: sp.Policy, LimitMiB: sp.Limit})
		}
	}
	if spec.Networks != nil || replace {
		out.Networks = spec.Networks
	}
	if spec.VMServiceSpec != nil || replace {
		out.VMServiceSpec = vspherev1.VMServiceSpec{}
		if spec.VMServiceSpec != nil {
			out.VMServiceSpec = vspherev1.VMServiceSpec{VMClasses: spec.VMServiceSpec.VMClasses, ContentLibraries: spec.VMServiceSpec.ContentLibraries}
		}
	}
}

func namespaceInfo(vns *vspherev1.VSphereNamespace) NamespaceInfo {
	status := vns.Status.ConfigStatus
	switch {
	case !vns.DeletionTimestamp.IsZero():
		status = vspherev1.ConfigStatusRemoving
	case status == "":
		status = vspherev1.ConfigStatusConfiguring
	}
	info := NamespaceInfo{
		Cluster: vns.Spec.Cluster, ConfigStatus: status, Description: vns.Spec.Description,
		Stats: map[string]int64{"cpu_used": 0, "memory_used": 0, "storage_used": 0}, Messages: statusMessages(vns.Status.Messages),
		VMServiceSpec: VMServiceSpecWire{VMClasses: nonNil(vns.Spec.VMServiceSpec.VMClasses), ContentLibraries: nonNil(vns.Spec.VMServiceSpec.ContentLibraries)},
		StorageSpecs:  []StorageSpecWire{}, AccessList: []AccessEntry{}, Networks: nonNil(vns.Spec.Networks), ResourceSpec: map[string]int64{},
	}
	for _, sp := range vns.Spec.StorageSpecs {
		info.StorageSpecs = append(info.StorageSpecs, StorageSpecWire{Policy: sp.Policy, Limit: sp.LimitMiB})
	}
	for _, a := range vns.Spec.AccessList {
		info.AccessList = append(info.AccessList, AccessEntry{SubjectType: a.SubjectType, Subject: a.Subject, Domain: a.Domain, Role: a.Role})
	}
	for k, get := range resourceKeys {
		if p := *get(&vns.Spec.ResourceSpec); p != nil {
			info.ResourceSpec[k] = *p
		}
	}
	return info
}

func (s *Server) vsphereNamespace(ctx context.Context, name string) (*vspherev1.VSphereNamespace, error) {
	vns := &vspherev1.VSphereNamespace{}
	err := s.opts.Client.Get(ctx, client.ObjectKey{Name: name}, vns)
	if apierrors.IsNotFound(err) {
		return nil, newError(errNotFound, "vcenter.wcp.namespace.notfound", "no vSphere Namespace %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read vSphere Namespace %s: %w", name, err)
	}
	return vns, nil
}

func (s *Server) listNamespaces(w http.ResponseWriter, r *http.Request) {
	var all vspherev1.VSphereNamespaceList
	if err := s.opts.Client.List(r.Context(), &all); err != nil {
		writeError(w, r, fmt.Errorf("failed to list vSphere Namespaces: %w", err))
		return
	}
	out := []map[string]any{}
	for i := range all.Items {
		info := namespaceInfo(&all.Items[i])
		out = append(out, map[string]any{
			"namespace": all.Items[i].Name, "cluster": info.Cluster, "config_status": info.ConfigStatus,
			"description": info.Description, "self_service_namespace": false, "stats": info.Stats,
		})
	}
	writeResult(w, r, out)
}

func (s *Server) createNamespace(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var spec NamespaceSpec
	if err := readBody(r, &spec, "spec", "create_spec"); err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.validateNamespace(ctx, sessionID(r), &spec, spec.Cluster, true); err != nil {
		writeError(w, r, err)
		return
	}
	exists := newError(errAlreadyExists, "vcenter.wcp.namespace.exists", "namespace %q already exists", spec.Namespace)
	if err := s.opts.Client.Get(ctx, client.ObjectKey{Name: spec.Namespace}, &corev1.Namespace{}); err == nil {
		writeError(w, r, exists)
		return
	}
	vns := &vspherev1.VSphereNamespace{ObjectMeta: metav1.ObjectMeta{Name: spec.Namespace}}
	vns.Spec.Cluster = spec.Cluster
	applyNamespace(vns, &spec, true)
	if err := s.opts.Client.Create(ctx, vns); err != nil {
		if apierrors.IsAlreadyExists(err) {
			writeError(w, r, exists)
			return
		}
		writeError(w, r, fmt.Errorf("failed to create vSphere Namespace %s: %w", spec.Namespace, err))
		return
	}
	writeDone(w, r)
}

func (s *Server) getNamespace(w http.ResponseWriter, r *http.Request) {
	vns, err := s.vsphereNamespace(r.Context(), r.PathValue("namespace"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, r, namespaceInfo(vns))
}

func (s *Server) changeNamespace(w http.ResponseWriter, r *http.Request, replace bool) {
	ctx := r.Context()
	var spec NamespaceSpec
	if err := readBody(r, &spec, "spec", "update_spec", "set_spec"); err != nil {
		writeError(w, r, err)
		return
	}
	vns, err := s.vsphereNamespace(ctx, r.PathValue("namespace"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.validateNamespace(ctx, sessionID(r), &spec, vns.Spec.Cluster, false); err != nil {
		writeError(w, r, err)
		return
	}
	s.updateVSphereNamespace(w, r, func(vns *vspherev1.VSphereNamespace) error {
		applyNamespace(vns, &spec, replace)
		return nil
	})
}

// updateVSphereNamespace changes the namespace, retrying when a
// controller wrote it meanwhile.
func (s *Server) updateVSphereNamespace(w http.ResponseWriter, r *http.Request, change func(*vspherev1.VSphereNamespace) error) {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		vns, err := s.vsphereNamespace(r.Context(), r.PathValue("namespace"))
		if err != nil {
			return err
		}
		if err := change(vns); err != nil {
			return err
		}
		return s.opts.Client.Update(r.Context(), vns)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeDone(w, r)
}

func (s *Server) updateNamespace(w http.ResponseWriter, r *http.Request) {
	s.changeNamespace(w, r, false)
}
func (s *Server) setNamespace(w http.ResponseWriter, r *http.Request) { s.changeNamespace(w, r, true) }

func (s *Server) deleteNamespace(w http.ResponseWriter, r *http.Request) {
	vns, err := s.vsphereNamespace(r.Context(), r.PathValue("namespace"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.opts.Client.Delete(r.Context(), vns); client.IgnoreNotFound(err) != nil {
		writeError(w, r, fmt.Errorf("failed to delete vSphere Namespace %s: %w", vns.Name, err))
		return
	}
	writeDone(w, r)
}

// subject is the access call's subject: path values and ?type=.
func subject(r *http.Request) (AccessEntry, error) {
	a := AccessEntry{Domain: r.PathValue("domain"), Subject: r.PathValue("subject"), SubjectType: r.URL.Query().Get("type")}
	if a.SubjectType == "" {
		a.SubjectType = vspherev1.SubjectTypeUser
	}
	if !validSubjectType(a.SubjectType) {
		return a, newError(errInvalidArgument, "vcenter.wcp.access.type", "type: want USER or GROUP, not %q", a.SubjectType)
	}
	return a, nil
}

func sameSubject(a vspherev1.Access, b AccessEntry) bool {
	return a.SubjectType == b.SubjectType && strings.EqualFold(a.Subject, b.Subject) && strings.EqualFold(a.Domain, b.Domain)
}

func (s *Server) getAccess(w http.ResponseWriter, r *http.Request) {
	want, err := subject(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	vns, err := s.vsphereNamespace(r.Context(), r.PathValue("namespace"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	for _, a := range vns.Spec.AccessList {
		if sameSubject(a, want) {
			writeResult(w, r, map[string]any{"role": a.Role, "inherited": false})
			return
		}
	}
	writeError(w, r, newError(errNotFound, "vcenter.wcp.access.notfound", "%s %s@%s has no access to %s", want.SubjectType, want.Subject, want.Domain, vns.Name))
}

// putAccess grants the body's role: create fails when the subject has
// one already, set replaces it.
func (s *Server) putAccess(w http.ResponseWriter, r *http.Request, create bool) {
	want, err := subject(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body struct {
		Role string `json:"role"`
	}
	if err := readBody(r, &body, "spec", "create_spec", "set_spec"); err != nil {
		writeError(w, r, err)
		return
	}
	if !validRole(body.Role) {
		writeError(w, r, newError(errInvalidArgument, "vcenter.wcp.access.role", "role: want OWNER, EDIT or VIEW, not %q", body.Role))
		return
	}
	s.updateVSphereNamespace(w, r, func(vns *vspherev1.VSphereNamespace) error {
		for i, a := range vns.Spec.AccessList {
			if sameSubject(a, want) {
				if create {
					return newError(errAlreadyExists, "vcenter.wcp.access.exists", "%s %s@%s already has access to %s", want.SubjectType, want.Subject, want.Domain, vns.Name)
				}
				vns.Spec.AccessList[i].Role = body.Role
				return nil
			}
		}
		vns.Spec.AccessList = append(vns.Spec.AccessList, vspherev1.Access{SubjectType: want.SubjectType, Subject: want.Subject, Domain: want.Domain, Role: body.Role})
		return nil
	})
}

func (s *Server) createAccess(w http.ResponseWriter, r *http.Request) { s.putAccess(w, r, true) }
func (s *Server) setAccess(w http.ResponseWriter, r *http.Request)    { s.putAccess(w, r, false) }

func (s *Server) deleteAccess(w http.ResponseWriter, r *http.Request) {
	want, err := subject(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.updateVSphereNamespace(w, r, func(vns *vspherev1.VSphereNamespace) error {
		for i, a := range vns.Spec.AccessList {
			if sameSubject(a, want) {
				vns.Spec.AccessList = append(vns.Spec.AccessList[:i], vns.Spec.AccessList[i+1:]...)
				return nil
			}
		}
		return newError(errNotFound, "vcenter.wcp.access.notfound", "%s %s@%s has no access to %s", want.SubjectType, want.Subject, want.Domain, vns.Name)
	})
}
