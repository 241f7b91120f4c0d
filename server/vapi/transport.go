package vapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/open-supervisor/supervisor/internal/httpmetrics"
)

// form is how a call was made: the /api form or the legacy /rest form.
type form int

const (
	formAPI form = iota
	formREST
)

// formOf tells the form from the path.
func formOf(r *http.Request) form {
	if strings.HasPrefix(r.URL.Path, "/rest/") {
		return formREST
	}
	return formAPI
}

// vCenter's standard error types, in both forms' spelling.
const (
	errInvalidArgument = "INVALID_ARGUMENT"
	errAlreadyExists   = "ALREADY_EXISTS"
	errNotFound        = "NOT_FOUND"
	errUnauthenticated = "UNAUTHENTICATED"
	errUnauthorized    = "UNAUTHORIZED"
	errNotAllowed      = "NOT_ALLOWED_IN_CURRENT_STATE"
	errInternal        = "ERROR"
	errServiceUnavail  = "SERVICE_UNAVAILABLE"
)

var errorStatus = map[string]int{
	errInvalidArgument: http.StatusBadRequest,
	errAlreadyExists:   http.StatusBadRequest,
	errNotAllowed:      http.StatusBadRequest,
	errNotFound:        http.StatusNotFound,
	errUnauthenticated: http.StatusUnauthorized,
	errUnauthorized:    http.StatusForbidden,
	errInternal:        http.StatusInternalServerError,
	errServiceUnavail:  http.StatusServiceUnavailable,
}

// Message is vCenter's localizable message.
type Message struct {
	ID             string   `json:"id"`
	DefaultMessage string   `json:"default_message"`
	Args           []string `json:"args"`
}

// apiError is a vCenter standard error: a type and its messages.
type apiError struct {
	Type     string
	Messages []Message
}

func (e *apiError) Error() string {
	parts := make([]string, 0, len(e.Messages))
	for _, m := range e.Messages {
		parts = append(parts, m.DefaultMessage)
	}
	return e.Type + ": " + strings.Join(parts, "; ")
}

func newError(typ, id, format string, args ...any) *apiError {
	return &apiError{Type: typ, Messages: []Message{{ID: id, DefaultMessage: fmt.Sprintf(format, args...), Args: []string{}}}}
}

// invalidArgs collects one invalid_argument message per bad field.
type invalidArgs struct{ msgs []Message }

// add records that field is wrong and why.
func (v *invalidArgs) add(field, format string, args ...any) {
	v.msgs = append(v.msgs, Message{
		ID:             "com.vmware.vapi.std.errors.invalid_argument",
		DefaultMessage: field + ": " + fmt.Sprintf(format, args...),
		Args:           []string{field},
	})
}

// err is nil when nothing was added.
func (v *invalidArgs) err() error {
	if len(v.msgs) == 0 {
		return nil
	}
	return &apiError{Type: errInvalidArgument, Messages: v.msgs}
}

// writeError answers err in the call's form; anything but an apiError is
// an internal error whose text is kept out of the answer's details.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = newError(errInternal, "vcenter.wcp.internal", "internal error: %v", err)
	}
	status := errorStatus[e.Type]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	var body any
	if formOf(r) == formREST {
		body = map[string]any{
			"type":  "com.vmware.vapi.std.errors." + strings.ToLower(e.Type),
			"value": map[string]any{"messages": e.Messages},
		}
	} else {
		body = map[string]any{"error_type": e.Type, "messages": e.Messages}
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeResult answers a call that returns v: raw on /api, wrapped in
// {"value": ...} on /rest.
func writeResult(w http.ResponseWriter, r *http.Request, v any) {
	if formOf(r) == formREST {
		writeJSON(w, http.StatusOK, map[string]any{"value": v})
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// writeDone answers a call that returns nothing: 204 on /api, 200 on /rest.
func writeDone(w http.ResponseWriter, r *http.Request) {
	if formOf(r) == formREST {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// readBody decodes the request into v. On /rest the object comes wrapped
// by its parameter name ({"spec": ...}, {"create_spec": ...}); any one of
// names is accepted. Unknown fields are refused, naming them.
func readBody(r *http.Request, v any, names ...string) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return newError(errInvalidArgument, "vcenter.wcp.body", "failed to read the request body: %v", err)
	}
	if formOf(r) == formREST {
		var wrapped map[string]json.RawMessage
		if err := json.Unmarshal(data, &wrapped); err != nil {
			return newError(errInvalidArgument, "vcenter.wcp.body", "the request body is not a JSON object: %v", err)
		}
		data = nil
		for _, n := range names {
			if raw, ok := wrapped[n]; ok {
				data = raw
				break
			}
		}
		if data == nil {
			return newError(errInvalidArgument, "vcenter.wcp.body", "the request body lacks %q", names[0])
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return newError(errInvalidArgument, "vcenter.wcp.body", "the request body does not decode: %v", err)
	}
	return nil
}

// route registers h for method and path (after /api) in both forms: the
// /rest form's path is the same after /rest.
func route(mux *http.ServeMux, method, path string, h http.HandlerFunc) {
	mux.HandleFunc(method+" /api"+path, httpmetrics.Time("namespace-management", "/api"+path, h))
	mux.HandleFunc(method+" /rest"+path, httpmetrics.Time("namespace-management", "/rest"+path, h))
}
