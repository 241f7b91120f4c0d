package appliance

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	oaerrors "github.com/go-openapi/errors"
	"github.com/go-openapi/strfmt"
	"github.com/haproxytech/client-native/v6/configuration"
	"github.com/haproxytech/client-native/v6/models"
)

// buildDate is what /info reports as the API's build date.
var buildDate = strfmt.DateTime(time.Now().UTC())

// routes serves one major version. v2 and v3 differ in three ways: the
// prefix, where children live (v3 nests binds and servers under their
// parent, v2 lists them flat with ?frontend=F or ?backend=B) and the shape
// of configuration reads (v2 wraps them as {"_version": N, "data": ...}).
func (a *Appliance) routes() http.Handler {
	ver := a.opts.APIVersion
	svc := "/" + ver + "/services/haproxy"
	cfg := svc + "/configuration"
	binds, servers := cfg+"/frontends/{frontend}/binds", cfg+"/backends/{backend}/servers"
	if ver == "v2" {
		binds, servers = cfg+"/binds", cfg+"/servers"
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.reply(w, http.StatusNotFound, apiError{Code: http.StatusNotFound, Message: "path " + r.URL.Path + " not found"})
	})
	mux.HandleFunc("GET /"+ver+"/info", func(w http.ResponseWriter, r *http.Request) {
		a.reply(w, http.StatusOK, models.Info{
			API:    &models.InfoAPI{Version: ver + ".0.0 open-supervisor-appliance", BuildDate: buildDate},
			System: &models.InfoSystem{},
		})
	})
	mux.HandleFunc("GET "+cfg+"/version", func(w http.ResponseWriter, r *http.Request) {
		v, err := a.conf.GetVersion(r.URL.Query().Get("transaction_id"))
		a.result(w, http.StatusOK, v, err)
	})

	mux.HandleFunc("POST "+svc+"/transactions", a.startTransaction)
	mux.HandleFunc("GET "+svc+"/transactions", func(w http.ResponseWriter, r *http.Request) {
		ts, err := a.conf.GetTransactions(r.URL.Query().Get("status"))
		if err != nil || ts == nil {
			a.result(w, http.StatusOK, models.Transactions{}, err)
			return
		}
		a.reply(w, http.StatusOK, nonNil(*ts))
	})
	mux.HandleFunc("GET "+svc+"/transactions/{id}", func(w http.ResponseWriter, r *http.Request) {
		t, err := a.conf.GetTransaction(r.PathValue("id"))
		a.result(w, http.StatusOK, t, err)
	})
	mux.HandleFunc("DELETE "+svc+"/transactions/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.result(w, http.StatusNoContent, nil, a.conf.DeleteTransaction(r.PathValue("id")))
	})
	mux.HandleFunc("PUT "+svc+"/transactions/{id}", a.commitTransaction)

	mux.HandleFunc("GET "+svc+"/reloads", func(w http.ResponseWriter, r *http.Request) {
		a.reply(w, http.StatusOK, a.reloadList())
	})
	mux.HandleFunc("GET "+svc+"/reloads/{id}", func(w http.ResponseWriter, r *http.Request) {
		if rl := a.Reload(r.PathValue("id")); rl != nil {
			a.reply(w, http.StatusOK, rl)
			return
		}
		a.reply(w, http.StatusNotFound, apiError{Code: http.StatusNotFound, Message: fmt.Sprintf("reload %s not found", r.PathValue("id"))})
	})

	// Frontends and their binds.
	mux.HandleFunc("GET "+cfg+"/frontends", a.read(func(r *http.Request, tid string) (int64, any, error) {
		v, fs, err := a.conf.GetFrontends(tid)
		return v, nonNil(fs), err
	}))
	mux.HandleFunc("GET "+cfg+"/frontends/{name}", a.read(func(r *http.Request, tid string) (int64, any, error) {
		return a.conf.GetFrontend(r.PathValue("name"), tid)
	}))
	mux.HandleFunc("POST "+cfg+"/frontends", write(a, http.StatusCreated, func(f *models.Frontend, tid string, v int64, _ *http.Request) error {
		return a.conf.CreateFrontend(f, tid, v)
	}))
	mux.HandleFunc("PUT "+cfg+"/frontends/{name}", write(a, http.StatusOK, func(f *models.Frontend, tid string, v int64, r *http.Request) error {
		return a.conf.EditFrontend(r.PathValue("name"), f, tid, v)
	}))
	mux.HandleFunc("DELETE "+cfg+"/frontends/{name}", a.delete(func(tid string, v int64, r *http.Request) error {
		return a.conf.DeleteFrontend(r.PathValue("name"), tid, v)
	}))
	mux.HandleFunc("GET "+binds, a.child("frontend", a.read(func(r *http.Request, tid string) (int64, any, error) {
		v, bs, err := a.conf.GetBinds("frontend", parent(r, "frontend"), tid)
		return v, nonNil(bs), err
	})))
	mux.HandleFunc("POST "+binds, a.child("frontend", write(a, http.StatusCreated, func(b *models.Bind, tid string, v int64, r *http.Request) error {
		return a.conf.CreateBind("frontend", parent(r, "frontend"), b, tid, v)
	})))
	mux.HandleFunc("DELETE "+binds+"/{name}", a.child("frontend", a.delete(func(tid string, v int64, r *http.Request) error {
		return a.conf.DeleteBind(r.PathValue("name"), "frontend", parent(r, "frontend"), tid, v)
	})))

	// Backends and their servers.
	mux.HandleFunc("GET "+cfg+"/backends", a.read(func(r *http.Request, tid string) (int64, any, error) {
		v, bs, err := a.conf.GetBackends(tid)
		return v, nonNil(bs), err
	}))
	mux.HandleFunc("GET "+cfg+"/backends/{name}", a.read(func(r *http.Request, tid string) (int64, any, error) {
		return a.conf.GetBackend(r.PathValue("name"), tid)
	}))
	mux.HandleFunc("POST "+cfg+"/backends", write(a, http.StatusCreated, func(b *models.Backend, tid string, v int64, _ *http.Request) error {
		return a.conf.CreateBackend(b, tid, v)
	}))
	mux.HandleFunc("PUT "+cfg+"/backends/{name}", write(a, http.StatusOK, func(b *models.Backend, tid string, v int64, r *http.Request) error {
		return a.conf.EditBackend(r.PathValue("name"), b, tid, v)
	}))
	mux.HandleFunc("DELETE "+cfg+"/backends/{name}", a.delete(func(tid string, v int64, r *http.Request) error {
		return a.conf.DeleteBackend(r.PathValue("name"), tid, v)
	}))
	mux.HandleFunc("GET "+servers, a.child("backend", a.read(func(r *http.Request, tid string) (int64, any, error) {
		v, ss, err := a.conf.GetServers("backend", parent(r, "backend"), tid)
		return v, nonNil(ss), err
	})))
	mux.HandleFunc("GET "+servers+"/{name}", a.child("backend", a.read(func(r *http.Request, tid string) (int64, any, error) {
		return a.conf.GetServer(r.PathValue("name"), "backend", parent(r, "backend"), tid)
	})))
	mux.HandleFunc("POST "+servers, a.child("backend", write(a, http.StatusCreated, func(s *models.Server, tid string, v int64, r *http.Request) error {
		return a.conf.CreateServer("backend", parent(r, "backend"), s, tid, v)
	})))
	mux.HandleFunc("PUT "+servers+"/{name}", a.child("backend", write(a, http.StatusOK, func(s *models.Server, tid string, v int64, r *http.Request) error {
		return a.conf.EditServer(r.PathValue("name"), "backend", parent(r, "backend"), s, tid, v)
	})))
	mux.HandleFunc("DELETE "+servers+"/{name}", a.child("backend", a.delete(func(tid string, v int64, r *http.Request) error {
		return a.conf.DeleteServer(r.PathValue("name"), "backend", parent(r, "backend"), tid, v)
	})))
	a.runtimeRoutes(mux, svc)
	return a.basicAuth(mux)
}

// parent is a child's frontend or backend: a path segment in v3, a query
// parameter in v2.
func parent(r *http.Request, kind string) string {
	if p := r.PathValue(kind); p != "" {
		return p
	}
	return r.URL.Query().Get(kind)
}

// child requires the parent of a v2 child collection, as the real server's
// request binding does (422, code 602).
func (a *Appliance) child(kind string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if parent(r, kind) == "" {
			a.reply(w, http.StatusUnprocessableEntity, apiError{Code: 602, Message: kind + " in query is required"})
			return
		}
		next(w, r)
	}
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

// commitTransaction commits after haproxy -c accepted the result (client-native
// runs it): a refused configuration answers 400 "validation error: ..." with
// HAProxy's alerts, the transaction becomes failed and the version stays.
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
	a.applied(w, r, http.StatusOK, t)
}

// applied answers a change that is in the configuration file: with
// force_reload=true HAProxy reloads now (forced status), else at the
// window's end (202 and the Reload-ID).
func (a *Appliance) applied(w http.ResponseWriter, r *http.Request, forced int, body any) {
	if r.URL.Query().Get("force_reload") == "true" {
		if err := a.reloadNow(); err != nil {
			a.result(w, 0, nil, err)
			return
		}
		a.reply(w, forced, body)
		return
	}
	w.Header().Set("Reload-ID", a.scheduleReload())
	a.reply(w, http.StatusAccepted, body)
}

// read answers a configuration read: v3 sends the object or list as is, v2
// wraps it with the version it was read at.
func (a *Appliance) read(get func(r *http.Request, tid string) (int64, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, body, err := get(r, r.URL.Query().Get("transaction_id"))
		if err == nil && a.opts.APIVersion == "v2" {
			body = v2Data{Version: v, Data: body}
		}
		a.result(w, http.StatusOK, body, err)
	}
}

type v2Data struct {
	Version int64 `json:"_version"`
	Data    any   `json:"data"`
}

// write decodes and validates a model, then applies it in a transaction
// (202) or directly against a version (202 and a scheduled reload, or the
// forced status with force_reload=true), as the Data Plane API does.
func write[T any, PT interface {
	*T
	Validate(strfmt.Registry) error
}](a *Appliance, forced int, apply func(obj PT, tid string, version int64, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tid, version, ok := a.writeParams(w, r)
		if !ok {
			return
		}
		obj := PT(new(T))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err == nil {
			err = json.Unmarshal(body, obj)
		}
		if err != nil {
			a.reply(w, http.StatusBadRequest, apiError{Code: http.StatusBadRequest, Message: "invalid JSON body: " + err.Error()})
			return
		}
		if err := obj.Validate(strfmt.Default); err != nil {
			a.reply(w, http.StatusUnprocessableEntity, schemaError(err))
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
		a.applied(w, r, forced, obj)
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
		a.applied(w, r, http.StatusNoContent, nil)
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
	case tid != "" && q.Get("force_reload") == "true":
		a.reply(w, http.StatusBadRequest, apiError{Code: http.StatusBadRequest, Message: "Both force_reload and transaction specified, specify only one"})
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

// schemaError answers an invalid body as go-swagger does on the real
// server: 422 with the first violation's code and message, e.g.
// {"code":605,"message":"name in body should match '^[A-Za-z0-9-_.:]+$'"}.
func schemaError(err error) apiError {
	var ce *oaerrors.CompositeError
	for errors.As(err, &ce) && len(ce.Errors) > 0 {
		err = ce.Errors[0]
	}
	code := http.StatusUnprocessableEntity
	var oe oaerrors.Error
	if errors.As(err, &oe) {
		code = int(oe.Code())
	}
	return apiError{Code: code, Message: err.Error()}
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
