package main

import (
	"sort"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// mergeLogin returns a copy of cfg with the entries of a login to server
// written into it, and the ledger updated so that removeLogin can take
// them out again. Entries of other names are left as they are. cfg itself
// is not modified.
func mergeLogin(cfg *clientcmdapi.Config, server string, e loginEntries) (*clientcmdapi.Config, error) {
	out := cfg.DeepCopy()
	l, err := readLedger(out)
	if err != nil {
		return nil, err
	}
	rec := l.recordFor(server)
	if e.CurrentContext != "" {
		// Remember the user's own choice, not a context of an earlier login
		// to this Supervisor.
		if !rec.wrote(contextEntries, out.CurrentContext) {
			rec.PreviousContext = out.CurrentContext
		}
		out.CurrentContext = e.CurrentContext
	}
	for _, kind := range entryKinds {
		entries := kind.entries(e)
		for _, name := range sortedKeys(entries) {
			claim(out, l, rec, kind, name)
			kind.set(out, name, entries[name])
			digest, err := digestOf(entries[name])
			if err != nil {
				return nil, err
			}
			rec.setWritten(kind, name, digest)
		}
	}
	if err := writeLedger(out, l); err != nil {
		return nil, err
	}
	return out, nil
}

// claim makes rec the owner of the entry about to be written, remembering
// what logout must put back: nothing new when rec already owns it (an
// earlier login to the same Supervisor wrote it), what was there before
// the other login when another Supervisor's login owns it, else the entry
// as it is now.
func claim(cfg *clientcmdapi.Config, l *ledger, rec *loginRecord, kind entryKind, name string) {
	if rec.wrote(kind, name) {
		return
	}
	if other := l.owner(kind, name, rec); other != nil {
		if prev, ok := other.replaced(kind, name); ok {
			rec.setReplaced(kind, name, prev)
		}
		other.forget(kind, name)
		return
	}
	if existing, ok := kind.get(cfg, name); ok {
		rec.setReplaced(kind, name, existing)
	}
}

// logoutResult says what removeLogin did.
type logoutResult struct {
	// LoggedIn is false when the kubeconfig records no login to the server.
	LoggedIn bool
	// Removed counts the entries taken out (or put back as they were).
	Removed int
	// Kept names the entries left in place because they changed since
	// login, e.g. "context dev".
	Kept []string
}

// removeLogin returns a copy of cfg without what the logins to server
// wrote: each entry still as login wrote it is removed, or replaced by the
// entry it had overwritten. When the current context was one of them, the
// context that was current before login becomes current again (if it
// still exists). cfg itself is not modified.
func removeLogin(cfg *clientcmdapi.Config, server string) (*clientcmdapi.Config, logoutResult, error) {
	out := cfg.DeepCopy()
	l, err := readLedger(out)
	if err != nil {
		return nil, logoutResult{}, err
	}
	rec := l.record(server)
	if rec == nil {
		return out, logoutResult{}, nil
	}
	result := logoutResult{LoggedIn: true}
	takenOut := map[string]bool{} // contexts removed or put back
	for _, kind := range entryKinds {
		for _, name := range sortedKeys(rec.Written[kind]) {
			done, err := takeOut(out, rec, kind, name)
			if err != nil {
				return nil, logoutResult{}, err
			}
			switch {
			case done:
				result.Removed++
				if kind == contextEntries {
					takenOut[name] = true
				}
			case entryExists(out, kind, name):
				result.Kept = append(result.Kept, kind.singular()+" "+name)
			}
		}
	}
	if takenOut[out.CurrentContext] {
		out.CurrentContext = ""
		if _, ok := out.Contexts[rec.PreviousContext]; ok {
			out.CurrentContext = rec.PreviousContext
		}
	}
	l.remove(rec)
	l.inheritPreviousContext(takenOut, rec.PreviousContext)
	if err := writeLedger(out, l); err != nil {
		return nil, logoutResult{}, err
	}
	return out, result, nil
}

// takeOut removes the entry, or puts back the one it replaced, if it is
// still as rec's login wrote it; it reports whether it did.
func takeOut(cfg *clientcmdapi.Config, rec *loginRecord, kind entryKind, name string) (bool, error) {
	current, ok := kind.get(cfg, name)
	if !ok {
		return false, nil
	}
	digest, err := digestOf(current)
	if err != nil {
		return false, err
	}
	if digest != rec.Written[kind][name] {
		return false, nil
	}
	kind.remove(cfg, name)
	if prev, ok := rec.replaced(kind, name); ok {
		kind.set(cfg, name, prev)
	}
	return true, nil
}

func entryExists(cfg *clientcmdapi.Config, kind entryKind, name string) bool {
	_, ok := kind.get(cfg, name)
	return ok
}

// loggedInServers lists the Supervisors cfg records logins to.
func loggedInServers(cfg *clientcmdapi.Config) ([]string, error) {
	l, err := readLedger(cfg)
	if err != nil {
		return nil, err
	}
	return l.servers(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
