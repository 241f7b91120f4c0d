package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

// ledgerExtension names the kubeconfig extension (top-level `extensions:`)
// in which login records what it wrote. It lives in the kubeconfig itself
// so that the record and the entries are written together, atomically,
// and travel together; kubectl keeps extensions it does not know.
const ledgerExtension = "kubectl-vsphere.open-supervisor.io/logins"

// ledger is the extension's content: one record per Supervisor logged in to.
type ledger struct {
	Logins []*loginRecord `json:"logins"`
}

// loginRecord is what the logins to one Supervisor (and its guest
// clusters) wrote into the kubeconfig.
type loginRecord struct {
	// Server is the Supervisor's host, as login's --server named it.
	Server string `json:"server"`
	// PreviousContext was the current context before login made one of its
	// own current; logout makes it current again.
	PreviousContext string `json:"previousContext,omitempty"`
	// Written holds, per kind, the names of the entries login wrote and the
	// digest of each as written: logout removes an entry only while it is
	// unchanged.
	Written map[entryKind]map[string]string `json:"written"`
	// Replaced holds the entries that existed before login overwrote them,
	// for logout to put back. It is a kubeconfig; in JSON, ReplacedJSON.
	Replaced     *clientcmdapi.Config `json:"-"`
	ReplacedJSON json.RawMessage      `json:"replaced,omitempty"`
}

// readLedger reads the ledger from cfg's extension; none is an empty one.
func readLedger(cfg *clientcmdapi.Config) (*ledger, error) {
	l := &ledger{}
	obj := cfg.Extensions[ledgerExtension]
	if obj == nil {
		return l, nil
	}
	raw, err := extensionJSON(obj)
	if err == nil {
		err = json.Unmarshal(raw, l)
	}
	if err != nil {
		return nil, fmt.Errorf("the kubeconfig extension %q, in which kubectl vsphere records its logins, is unreadable (delete it to start afresh): %w", ledgerExtension, err)
	}
	for _, rec := range l.Logins {
		if err := rec.decodeReplaced(); err != nil {
			return nil, fmt.Errorf("the kubeconfig extension %q records unreadable entries for %s: %w", ledgerExtension, rec.Server, err)
		}
	}
	return l, nil
}

// extensionJSON is an extension's JSON: kubeconfig decoding leaves
// unknown extensions as runtime.Unknown holding it.
func extensionJSON(obj runtime.Object) ([]byte, error) {
	if u, ok := obj.(*runtime.Unknown); ok {
		return u.Raw, nil
	}
	return json.Marshal(obj)
}

// writeLedger stores l in cfg's extension, or removes the extension when
// no login is left, so that logging out of everything restores the
// kubeconfig as it was.
func writeLedger(cfg *clientcmdapi.Config, l *ledger) error {
	l.dropEmpty()
	if len(l.Logins) == 0 {
		delete(cfg.Extensions, ledgerExtension)
		return nil
	}
	for _, rec := range l.Logins {
		if err := rec.encodeReplaced(); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("failed to encode the record of logins: %w", err)
	}
	if cfg.Extensions == nil {
		cfg.Extensions = map[string]runtime.Object{}
	}
	cfg.Extensions[ledgerExtension] = &runtime.Unknown{Raw: raw, ContentType: runtime.ContentTypeJSON}
	return nil
}

// record returns the record of server, or nil.
func (l *ledger) record(server string) *loginRecord {
	for _, rec := range l.Logins {
		if rec.Server == server {
			return rec
		}
	}
	return nil
}

// recordFor returns the record of server, starting one if needed.
func (l *ledger) recordFor(server string) *loginRecord {
	if rec := l.record(server); rec != nil {
		return rec
	}
	rec := &loginRecord{Server: server, Written: map[entryKind]map[string]string{}}
	l.Logins = append(l.Logins, rec)
	return rec
}

// owner returns the record, other than except, that wrote the entry.
func (l *ledger) owner(kind entryKind, name string, except *loginRecord) *loginRecord {
	for _, rec := range l.Logins {
		if rec != except && rec.wrote(kind, name) {
			return rec
		}
	}
	return nil
}

func (l *ledger) remove(rec *loginRecord) {
	kept := l.Logins[:0]
	for _, r := range l.Logins {
		if r != rec {
			kept = append(kept, r)
		}
	}
	l.Logins = kept
}

// inheritPreviousContext hands a logged-out login's previous context to
// the logins that came after it and remembered one of its contexts as
// theirs, so that logging out in any order ends on the user's own choice.
func (l *ledger) inheritPreviousContext(takenOut map[string]bool, previous string) {
	for _, rec := range l.Logins {
		if takenOut[rec.PreviousContext] {
			rec.PreviousContext = previous
		}
	}
}

// dropEmpty forgets records that own nothing any more (another login took
// all their entries over).
func (l *ledger) dropEmpty() {
	kept := l.Logins[:0]
	for _, rec := range l.Logins {
		if rec.ownsAnything() {
			kept = append(kept, rec)
		}
	}
	l.Logins = kept
}

// servers lists the Supervisors with a record, sorted.
func (l *ledger) servers() []string {
	names := make([]string, 0, len(l.Logins))
	for _, rec := range l.Logins {
		names = append(names, rec.Server)
	}
	sort.Strings(names)
	return names
}

func (r *loginRecord) wrote(kind entryKind, name string) bool {
	_, ok := r.Written[kind][name]
	return ok
}

func (r *loginRecord) ownsAnything() bool {
	for _, names := range r.Written {
		if len(names) > 0 {
			return true
		}
	}
	return false
}

func (r *loginRecord) setWritten(kind entryKind, name, digest string) {
	if r.Written == nil {
		r.Written = map[entryKind]map[string]string{}
	}
	if r.Written[kind] == nil {
		r.Written[kind] = map[string]string{}
	}
	r.Written[kind][name] = digest
}

// forget drops every trace of the entry from the record.
func (r *loginRecord) forget(kind entryKind, name string) {
	delete(r.Written[kind], name)
	if r.Replaced != nil {
		kind.remove(r.Replaced, name)
	}
}

// replaced returns the entry that existed before login overwrote it.
func (r *loginRecord) replaced(kind entryKind, name string) (any, bool) {
	if r.Replaced == nil {
		return nil, false
	}
	return kind.get(r.Replaced, name)
}

func (r *loginRecord) setReplaced(kind entryKind, name string, entry any) {
	if r.Replaced == nil {
		r.Replaced = clientcmdapi.NewConfig()
	}
	kind.set(r.Replaced, name, entry)
}

func (r *loginRecord) decodeReplaced() error {
	if len(r.ReplacedJSON) == 0 {
		return nil
	}
	cfg, err := clientcmd.Load(r.ReplacedJSON)
	if err != nil {
		return err
	}
	r.Replaced = cfg
	return nil
}

func (r *loginRecord) encodeReplaced() error {
	r.ReplacedJSON = nil
	if r.Replaced == nil || isEmptyConfig(r.Replaced) {
		return nil
	}
	data, err := clientcmd.Write(*r.Replaced)
	if err != nil {
		return fmt.Errorf("failed to encode the entries replaced by the login to %s: %w", r.Server, err)
	}
	if r.ReplacedJSON, err = yaml.YAMLToJSON(data); err != nil {
		return fmt.Errorf("failed to encode the entries replaced by the login to %s: %w", r.Server, err)
	}
	return nil
}

func isEmptyConfig(cfg *clientcmdapi.Config) bool {
	return len(cfg.Clusters) == 0 && len(cfg.AuthInfos) == 0 && len(cfg.Contexts) == 0
}

// digestOf fingerprints an entry, to tell later whether it changed.
func digestOf(entry any) (string, error) {
	data, err := json.Marshal(entry)
	if err != nil {
		return "", fmt.Errorf("failed to fingerprint a kubeconfig entry: %w", err)
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
