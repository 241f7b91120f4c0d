package appliance

import (
	"errors"
	"net/http"

	nativeerrors "github.com/haproxytech/client-native/v6/errors"
	"github.com/haproxytech/client-native/v6/models"
)

// The runtime endpoints read the RUNNING HAProxy worker through its stats
// socket (parsed into client-native's models as its runtime package does), not
// haproxy.cfg: after a reload HAProxy could not apply they show the
// previous configuration, which still serves.
//
// Wire format, as dataplaneapi v2.9 (client-native v5) and v3.x
// (client-native v6) send it:
//
//	GET /v3/services/haproxy/stats/native  {"runtimeAPI": "...", "stats": [{"name": "F", "type": "frontend", "stats": {...}}, ...]}
//	GET /v2/services/haproxy/stats/native  [{"runtimeAPI": "...", "stats": [...]}]
//	GET /v3/services/haproxy/runtime/info  {"runtimeAPI": "...", "info": {"pid": 1, ...}}
//	GET /v2/services/haproxy/runtime/info  [{"runtimeAPI": "...", "info": {...}}]
//	GET /v3/services/haproxy/runtime/backends/{B}/servers, GET /v2/services/haproxy/runtime/servers?backend=B
//	    [{"name": "s", "address": "10.0.0.1", "port": 80, "operational_state": "up", ...}]
//
// A stats read the socket failed answers 500 with the same shape and its
// "error" set.
func (a *Appliance) runtimeRoutes(mux *http.ServeMux, svc string) {
	mux.HandleFunc("GET "+svc+"/stats/native", a.nativeStats)
	mux.HandleFunc("GET "+svc+"/runtime/info", a.processInfo)
	if a.opts.APIVersion == "v2" {
		mux.HandleFunc("GET "+svc+"/runtime/servers", a.child("backend", a.runtimeServers))
	} else {
		mux.HandleFunc("GET "+svc+"/runtime/backends/{backend}/servers", a.runtimeServers)
	}
}

// nativeStats answers "show stat" of the running worker, filtered by type,
// name and parent as the real server filters.
func (a *Appliance) nativeStats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	typ, name, parentName := q.Get("type"), q.Get("name"), q.Get("parent")
	switch typ {
	case "", "frontend", "backend", "server":
	default:
		a.reply(w, http.StatusUnprocessableEntity, apiError{Code: 606, Message: "type in query should be one of [frontend backend server]"})
		return
	}
	if name != "" && typ == "" {
		a.reply(w, http.StatusBadRequest, apiError{Code: http.StatusBadRequest, Message: "Type required when filtering by name"})
		return
	}
	if name != "" && typ == "server" && parentName == "" {
		a.reply(w, http.StatusBadRequest, apiError{Code: http.StatusBadRequest, Message: "Parent backend required when filtering by server"})
		return
	}
	st := a.runtime.stats()
	status := http.StatusOK
	if st.Error != "" {
		status = http.StatusInternalServerError
	} else {
		kept := make([]*models.NativeStat, 0, len(st.Stats))
		for _, s := range st.Stats {
			if keepStat(s, typ, name, parentName) {
				kept = append(kept, s)
			}
		}
		st.Stats = kept
	}
	if a.opts.APIVersion == "v2" {
		// v2 lists one collection per process.
		a.reply(w, status, []*models.NativeStats{&st})
		return
	}
	a.reply(w, status, &st)
}

func keepStat(s *models.NativeStat, typ, name, parentName string) bool {
	switch {
	case name != "" && s.Type == "server":
		return s.Name == name && s.Type == typ && s.BackendName == parentName
	case name != "":
		return s.Name == name && s.Type == typ
	case typ == "server" && parentName != "":
		return s.Type == typ && s.BackendName == parentName
	case typ != "":
		return s.Type == typ
	}
	return true
}

// processInfo answers "show info" of the running worker.
func (a *Appliance) processInfo(w http.ResponseWriter, r *http.Request) {
	info := a.runtime.info()
	if a.opts.APIVersion == "v2" {
		a.reply(w, http.StatusOK, []*models.ProcessInfo{&info})
		return
	}
	a.reply(w, http.StatusOK, &info)
}

// runtimeServers answers "show servers state" of a backend in the running
// worker; a backend it does not run is 404.
func (a *Appliance) runtimeServers(w http.ResponseWriter, r *http.Request) {
	backend := parent(r, "backend")
	servers, err := a.runtime.serversState(backend)
	switch {
	case errors.Is(err, nativeerrors.ErrNotFound):
		a.reply(w, http.StatusNotFound, apiError{Code: http.StatusNotFound, Message: err.Error()})
	case err != nil:
		a.reply(w, http.StatusInternalServerError, apiError{Code: http.StatusInternalServerError, Message: err.Error()})
	default:
		a.reply(w, http.StatusOK, nonNil(servers))
	}
}
