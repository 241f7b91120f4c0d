package wcp

import (
	"encoding/json"
	"net/http"
)

// Error codes of the JSON error body.
const (
	errUnauthenticated = "unauthenticated"
	errUnavailable     = "service_unavailable"
	errRateLimited     = "too_many_requests"
	errBadRequest      = "bad_request"
	errInternal        = "internal_error"
)

// ErrorBody is the JSON body of every error answer: a stable code and a
// message for people. It never holds a password or a token.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="vSphere", charset="UTF-8"`)
	}
	writeJSON(w, status, ErrorBody{Error: code, Message: message})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	writeJSONBody(w, status, body)
}

func writeJSONBody(w http.ResponseWriter, status int, body any) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Answers carry tokens and per-user lists: no caching unless the
	// handler chose otherwise.
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
