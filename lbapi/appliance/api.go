package appliance

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/haproxytech/client-native/v6/configuration"
	"github.com/haproxytech/client-native/v6/models"
)

const (
	v3     = "/v3/services/haproxy"
	cfgAPI = v3 + "/configuration"
)

// apiVersion is what /v3/info reports.
const apiVersion = "v3.0.0 open-supervisor-appliance"

func (a *Appliance) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v3/info", func(w http.ResponseWriter, r *http.Request) {
		a.reply(w, http.StatusOK, map[string]any{"api": map[string]string{"version": apiVersion}, "system": map[string]any{}})
	})
	mux.HandleFunc("GET "+cfgAPI+"/version", func(w http.ResponseWriter, r *http.Request) {
		v, err := a.conf.GetVersion(r.URL.Query().Get("transaction_id"))
		a.result(w, http.StatusOK, v, err)
	})

	mux.HandleFunc("POST "+v3+"/transactions", a.startTransaction)
	mux.HandleFunc("GET "+v3+"/transactions/{id}", func(w http.ResponseWriter, r *http.Request) {
		t, err := a.conf.GetTransaction(r.PathValue("id"))
		a.result(w, http.StatusOK, t, err)
	})
	mux.HandleFunc("DELETE "+v3+"/transactions/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.result(w, http.StatusNoContent, nil, a.conf.DeleteTransaction(r.PathValue("id")))
	})
	mux.HandleFunc("PUT "+v3+"/transactions/{id}", a.commitTransaction)

	// Frontends and their binds.
	mux.HandleFunc("GET "+cfgAPI+"/frontends", func(w http.ResponseWriter, r *http.Request) {
		_, fs, err := a.conf.GetFrontends(r.URL.Query().Get("transaction_id"))
		a.result(w, http.StatusOK, nonNil(fs), err)
	})
	mux.HandleFunc("GET "+cfgAPI+"/frontends/{name}", func(w http.ResponseWriter, r *http.Request) {
		_, f, err := a.conf.GetFrontend(r.PathValue("name"), r.URL.Query().Get("transaction_id"))
		a.result(w, http.StatusOK, f, err)
	})
	mux.HandleFunc("POST "+cfgAPI+"/frontends", write(a, func(f *models.Frontend, tid string, v int64, _ *http.Request) error {
		return a.conf.CreateFrontend(f, tid, v)
	}))
	mux.HandleFunc("PUT "+cfgAPI+"/frontends/{name}", write(a, func(f *models.Frontend, tid string, v int64, r *http.Request) error {
		return a.conf.EditFrontend(r.PathValue("name"), f, tid, v)
	}))
	mux.HandleFunc("DELETE "+cfgAPI+"/frontends/{name}", a.delete(func(tid string, v int64, r *http.Request) error {
		return a.conf.DeleteFrontend(r.PathValue("name"), tid, v)
	}))
	mux.HandleFunc("GET "+cfgAPI+"/frontends/{parent}/binds", func(w http.ResponseWriter, r *http.Request) {
		_, bs, err := a.conf.GetBinds("frontend", r.PathValue("parent"), r.URL.Query().Get("transaction_id"))
		a.result(w, http.StatusOK, nonNil(bs), err)
	})
	mux.HandleFunc("POST "+cfgAPI+"/frontends/{parent}/binds", write(a, func(b *models.Bind, tid string, v int64, r *http.Request) error {
		return a.conf.CreateBind("frontend", r.PathValue("parent"), b, tid, v)
	}))
	mux.HandleFunc("DELETE "+cfgAPI+"/frontends/{parent}/binds/{name}", a.delete(func(tid string, v int64, r *http.Request) error {
		return a.conf.DeleteBind(r.PathValue("name"), "frontend", r.PathValue("parent"), tid, v)
	}))

	// Backends and their servers.
	mux.HandleFunc("GET "+cfgAPI+"/backends", func(w http.ResponseWriter, r *http.Request) {
		_, bs, err := a.conf.GetBackends(r.URL.Query().Get("transaction_id"))
		a.result(w, http.StatusOK, nonNil(bs), err)
	})
	mux.HandleFunc("GET "+cfgAPI+"/backends/{name}", func(w http.ResponseWriter, r *http.Request) {
		_, b, err := a.conf.GetBackend(r.PathValue("name"), r.URL.Query().Get("transaction_id"))
		a.result(w, http.StatusOK, b, err)
	})
	mux.HandleFunc("POST "+cfgAPI+"/backends", write(a, func(b *models.Backend, tid string, v int64, _ *http.Request) error {
		return a.conf.CreateBackend(b, tid, v)
	}))
	mux.HandleFunc("DELETE "+cfgAPI+"/backends/{name}", a.delete(func(tid string, v int64, r *http.Request) error {
		return a.conf.DeleteBackend(r.PathValue("name"), tid, v)
	}))
	mux.HandleFunc("GET "+cfgAPI+"/backends/{parent}/servers", func(w http.ResponseWriter, r *http.Request) {
		_, ss, err := a.conf.GetServers("backend", r.PathValue("parent"), r.URL.Query().Get("transaction_id"))
		a.result(w, http.StatusOK, nonNil(ss), err)
	})
	mux.HandleFunc("POST "+cfgAPI+"/backends/{parent}/servers", write(a, func(s *models.Server, tid string, v int64, r *http.Request) error {
		return a.conf.CreateServer("backend", r.PathValue("parent"), s, tid, v)
	}))
	mux.HandleFunc("PUT "+cfgAPI+"/backends/{parent}/servers/{name}", write(a, func(s *models.Server, tid string, v int64, r *http.Request) error {
		return a.conf.EditServer(r.PathValue("name"), "backend", r.PathValue("parent"), s, tid, v)
	}))
	mux.HandleFunc("DELETE "+cfgAPI+"/backends/{parent}/servers/{name}", a.delete(func(tid string, v int64, r *http.Request) error {
		return a.conf.DeleteServer(r.PathValue("name"), "backend", r.PathValue("parent"), tid, v)
	}))
	return a.basicAuth(mux)
}

// basicAuth checks the user against the userlist in haproxy.cfg.
func (a *Appliance) basicAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok {
			_, users, err := a.conf.GetUsers(Userlist, "")
			if err == nil {
				for _, u := range users {
					insecure := u.SecurePassword == nil || !*u.SecurePassword
					if u.Username == user && insecure && subtle.ConstantTimeCompare([]byte(u.Password), []byte(pass)) == 1 {
						next.ServeHTTP(w, r)
						return
					}
				}
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="API"`)
		a.reply(w, http.StatusUnauthorized, apiError{Code: http.StatusUnauthorized, Message: "unauthenticated for invalid credentials"})
	})
}

func (a *Appliance) startTransaction(w http.ResponseWriter, r *http.Request) {
	v, err := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64)
	if err != nil {
		a.reply(w, http.StatusBadRequest, apiError{Code: http.StatusBadRequest, Message: "version not specified"})
		return
	}
	t, err := a.conf.StartTransaction(v)
	a.result(w, http.StatusCreated, t, err)
}

func (a *Appliance) commitTransaction(w http.ResponseWriter, r *http.Request) {
	t, err := a.conf.CommitTransaction(r.PathValue("id"))
	if errors.Is(err, configuration.ErrVersionMismatch) {
		// The configuration moved on since the transaction began.
		a.reply(w, http.StatusNotAcceptable, apiError{Code: http.StatusNotAcceptable,
			Message: fmt.Sprintf("transaction %s is outdated and cannot be committed", r.PathValue("id"))})
		return
	}
	if err != nil {
		a.result(w, 0, nil, err)
		return
	}
	a.replyWithReload(w, r, t)
}

// replyWithReload answers a change outside a transaction (or a commit): a
// reload now with force_reload=true (200), else at the window's end (202 and
// a Reload-ID).
func (a *Appliance) replyWithReload(w http.ResponseWriter, r *http.Request, body any) {
	if r.URL.Query().Get("force_reload") == "true" {
		a.mu.Lock()
		a.reloads++
		a.mu.Unlock()
		if err := a.reload(); err != nil {
			a.result(w, 0, nil, err)
			return
		}
		a.reply(w, http.StatusOK, body)
		return
	}
	w.Header().Set("Reload-ID", a.scheduleReload())
	a.reply(w, http.StatusAccepted, body)
}

// write decodes a model, applies it in a transaction (202) or directly
// against a version (202 and a scheduled reload), as the Data Plane API does.
func write[T any](a *Appliance, apply func(obj *T, tid string, version int64, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tid, version, ok := a.writeParams(w, r)
		if !ok {
			return
		}
		obj := new(T)
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err == nil {
			err = json.Unmarshal(body, obj)
		}
		if err != nil {
			a.reply(w, http.StatusBadRequest, apiError{Code: http.StatusBadRequest, Message: "invalid JSON body: " + err.Error()})
			return
		}
		if err := apply(obj, tid, version, r); err != nil {
			a.result(w, 0, nil, err)
			return
		}
		if tid != "" {
			a.reply(w, http.StatusAccepted, obj)
			return
		}
		a.replyWithReload(w, r, obj)
	}
}

func (a *Appliance) delete(apply func(tid string, version int64, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tid, version, ok := a.writeParams(w, r)
		if !ok {
			return
		}
		if err := apply(tid, version, r); err != nil {
			a.result(w, 0, nil, err)
			return
		}
		if tid != "" {
			a.reply(w, http.StatusAccepted, nil)
			return
		}
		if r.URL.Query().Get("force_reload") == "true" {
			a.replyWithReload(w, r, nil)
			return
		}
		w.Header().Set("Reload-ID", a.scheduleReload())
		a.reply(w, http.StatusAccepted, nil)
	}
}

// writeParams reads transaction_id or version; exactly one is required.
func (a *Appliance) writeParams(w http.ResponseWriter, r *http.Request) (string, int64, bool) {
	q := r.URL.Query()
	tid, vs := q.Get("transaction_id"), q.Get("version")
	switch {
	case tid != "" && vs != "":
		a.reply(w, http.StatusBadRequest, apiError{Code: http.StatusBadRequest, Message: "both version and transaction specified, specify only one"})
		return "", 0, false
	case tid == "" && vs == "":
		a.reply(w, http.StatusBadRequest, apiError{Code: http.StatusBadRequest, Message: "version or transaction not specified"})
		return "", 0, false
	case tid != "":
		return tid, 0, true
	}
	v, err := strconv.ParseInt(vs, 10, 64)
	if err != nil {
		a.reply(w, http.StatusBadRequest, apiError{Code: http.StatusBadRequest, Message: "version must be an integer"})
		return "", 0, false
	}
	return "", v, true
}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// result replies with body, or with the status client-native's error maps to.
func (a *Appliance) result(w http.ResponseWriter, status int, body any, err error) {
	if err == nil {
		a.reply(w, status, body)
		return
	}
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, configuration.ErrVersionMismatch), errors.Is(err, configuration.ErrObjectAlreadyExists),
		errors.Is(err, configuration.ErrTransactionAlreadyExists):
		code = http.StatusConflict
	case errors.Is(err, configuration.ErrObjectDoesNotExist), errors.Is(err, configuration.ErrParentDoesNotExist),
		errors.Is(err, configuration.ErrTransactionDoesNotExist):
		code = http.StatusNotFound
	case errors.Is(err, configuration.ErrValidationError), errors.Is(err, configuration.ErrNoVersionTransaction),
		errors.Is(err, configuration.ErrBothVersionTransaction), errors.Is(err, configuration.ErrErrorChangingConfig):
		code = http.StatusBadRequest
	}
	a.reply(w, code, apiError{Code: code, Message: err.Error()})
}

func (a *Appliance) reply(w http.ResponseWriter, status int, body any) {
	if v, err := a.conf.GetVersion(""); err == nil {
		w.Header().Set("Configuration-Version", strconv.FormatInt(v, 10))
	}
	if body == nil || status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
