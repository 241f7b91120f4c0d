package main

import (
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// entryKind is one of the kubeconfig's named sections; its value is the
// section's name in the file.
type entryKind string

const (
	clusterEntries entryKind = "clusters"
	userEntries    entryKind = "users"
	contextEntries entryKind = "contexts"
)

// entryKinds in the order login writes them and logout removes them.
var entryKinds = []entryKind{clusterEntries, userEntries, contextEntries}

// get returns the entry (*Cluster, *AuthInfo or *Context) of that name.
func (k entryKind) get(cfg *clientcmdapi.Config, name string) (any, bool) {
	switch k {
	case clusterEntries:
		v, ok := cfg.Clusters[name]
		return v, ok && v != nil
	case userEntries:
		v, ok := cfg.AuthInfos[name]
		return v, ok && v != nil
	case contextEntries:
		v, ok := cfg.Contexts[name]
		return v, ok && v != nil
	}
	return nil, false
}

// set stores entry, which must be of the kind's type, under name.
func (k entryKind) set(cfg *clientcmdapi.Config, name string, entry any) {
	switch k {
	case clusterEntries:
		if cfg.Clusters == nil {
			cfg.Clusters = map[string]*clientcmdapi.Cluster{}
		}
		cfg.Clusters[name] = entry.(*clientcmdapi.Cluster).DeepCopy()
	case userEntries:
		if cfg.AuthInfos == nil {
			cfg.AuthInfos = map[string]*clientcmdapi.AuthInfo{}
		}
		cfg.AuthInfos[name] = entry.(*clientcmdapi.AuthInfo).DeepCopy()
	case contextEntries:
		if cfg.Contexts == nil {
			cfg.Contexts = map[string]*clientcmdapi.Context{}
		}
		cfg.Contexts[name] = entry.(*clientcmdapi.Context).DeepCopy()
	}
}

func (k entryKind) remove(cfg *clientcmdapi.Config, name string) {
	switch k {
	case clusterEntries:
		delete(cfg.Clusters, name)
	case userEntries:
		delete(cfg.AuthInfos, name)
	case contextEntries:
		delete(cfg.Contexts, name)
	}
}

// entries returns the login's entries of this kind.
func (k entryKind) entries(e loginEntries) map[string]any {
	out := map[string]any{}
	switch k {
	case clusterEntries:
		for name, v := range e.Clusters {
			out[name] = v
		}
	case userEntries:
		for name, v := range e.AuthInfos {
			out[name] = v
		}
	case contextEntries:
		for name, v := range e.Contexts {
			out[name] = v
		}
	}
	return out
}

// singular names one entry of the kind in messages.
func (k entryKind) singular() string {
	switch k {
	case clusterEntries:
		return "cluster"
	case userEntries:
		return "user"
	default:
		return "context"
	}
}
