package wcp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
)

// maxRequestBody caps request bodies; a login request is a few names.
const maxRequestBody = 64 << 10

// LoginRequest is the optional body of POST /wcp/login: empty (or {}) for
// a Supervisor login, a guest cluster's name (and namespace) for a guest
// login.
type LoginRequest struct {
	GuestClusterName      string `json:"guest_cluster_name,omitempty"`
	GuestClusterNamespace string `json:"guest_cluster_namespace,omitempty"`
}

// guest says whether the request is a guest login.
func (r LoginRequest) guest() bool { return r.GuestClusterName != "" }

// LoginResponse is POST /wcp/login's answer. The guest fields are there
// only for a guest login; an empty GuestClusterServer means the cluster is
// unknown or not permitted.
type LoginResponse struct {
	SessionID          string  `json:"session_id"`
	GuestClusterServer *string `json:"guest_cluster_server,omitempty"`
	GuestClusterCA     *string `json:"guest_cluster_ca,omitempty"`
}

// login: POST /wcp/login with Basic credentials. It answers a signed token
// valid for the Supervisor (and the guest clusters' API servers that trust
// the same issuer), and for a guest login the cluster's address and CA.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	req, herr := readLoginRequest(w, r)
	if herr != nil {
		herr.write(w)
		return
	}
	user, password, ok := r.BasicAuth()
	if !ok {
		errNoCredentials.write(w)
		return
	}
	id, herr := s.authenticate(r, user, password)
	if herr != nil {
		herr.write(w)
		return
	}
	ctx := r.Context()
	log := ctrl.LoggerFrom(ctx).WithValues("user", id.Subject(), "source", sourceAddress(r))
	token, err := s.issuer.Issue(ctx, id)
	if err != nil {
		log.Error(err, "Failed to issue a login token")
		writeError(w, http.StatusServiceUnavailable, errUnavailable, "no token can be issued now; try again later")
		return
	}
	resp := LoginResponse{SessionID: token}
	if req.guest() {
		guest, err := s.guestCluster(ctx, id, req)
		if err != nil {
			log.Error(err, "Failed to look up a guest cluster", "guestCluster", req.GuestClusterName, "guestNamespace", req.GuestClusterNamespace)
			writeError(w, http.StatusServiceUnavailable, errUnavailable, "the guest cluster cannot be looked up now; try again later")
			return
		}
		resp.GuestClusterServer, resp.GuestClusterCA = &guest.server, &guest.caData
	}
	log.Info("Issued a login token", "groups", len(id.Groups), "guestCluster", req.GuestClusterName)
	writeJSON(w, http.StatusOK, resp)
}

// readLoginRequest reads the optional JSON body.
func readLoginRequest(w http.ResponseWriter, r *http.Request) (LoginRequest, *httpError) {
	var req LoginRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return req, &httpError{status: http.StatusRequestEntityTooLarge, code: errBadRequest, message: "the request body is too large"}
		}
		return req, &httpError{status: http.StatusBadRequest, code: errBadRequest, message: "the request body cannot be read"}
	}
	if strings.TrimSpace(string(body)) == "" {
		return req, nil
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, &httpError{status: http.StatusBadRequest, code: errBadRequest, message: "the request body is not a JSON login request: " + err.Error()}
	}
	req.GuestClusterName = strings.TrimSpace(req.GuestClusterName)
	req.GuestClusterNamespace = strings.TrimSpace(req.GuestClusterNamespace)
	return req, nil
}
