package wcp

import (
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// httpError is an answer other than 200, with what the body says.
type httpError struct {
	status  int
	code    string
	message string
	// retryAfter, when set, becomes the Retry-After header.
	retryAfter string
}

func (e *httpError) write(w http.ResponseWriter) {
	if e.retryAfter != "" {
		w.Header().Set("Retry-After", e.retryAfter)
	}
	writeError(w, e.status, e.code, e.message)
}

var errNoCredentials = &httpError{status: http.StatusUnauthorized, code: errUnauthenticated,
	message: "send the vCenter user's credentials with Basic authentication, or a login token as a Bearer token"}

// identify returns who the request is from: a Bearer token this service
// issued, or Basic credentials vCenter accepts.
func (s *Server) identify(r *http.Request) (Identity, *httpError) {
	if token, ok := bearerToken(r); ok {
		return s.identifyToken(r, token)
	}
	if user, password, ok := r.BasicAuth(); ok {
		return s.authenticate(r, user, password)
	}
	return Identity{}, errNoCredentials
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func (s *Server) identifyToken(r *http.Request, token string) (Identity, *httpError) {
	log := ctrl.LoggerFrom(r.Context())
	claims, err := s.verifier.Verify(r.Context(), token)
	if err != nil {
		if errors.Is(err, ErrInvalidToken) {
			log.V(2).Info("Refused a token", "source", sourceAddress(r), "reason", err.Error())
			return Identity{}, &httpError{status: http.StatusUnauthorized, code: errUnauthenticated,
				message: "the token is not valid (expired, or not issued here); log in again"}
		}
		log.Error(err, "Failed to verify a token")
		return Identity{}, &httpError{status: http.StatusServiceUnavailable, code: errUnavailable, message: "tokens cannot be checked now; try again later"}
	}
	id, err := claims.Identity()
	if err != nil {
		return Identity{}, &httpError{status: http.StatusUnauthorized, code: errUnauthenticated, message: err.Error()}
	}
	return id, nil
}

// authenticate checks Basic credentials with the Authenticator, within the
// rate limits. The password goes to the Authenticator only.
func (s *Server) authenticate(r *http.Request, username, password string) (Identity, *httpError) {
	source := sourceAddress(r)
	log := ctrl.LoggerFrom(r.Context()).WithValues("user", username, "source", source)
	if strings.TrimSpace(username) == "" {
		return Identity{}, errNoCredentials
	}
	if ok, wait := s.limiter.allow(rateKey(username), source, s.clock.Now()); !ok {
		log.Info("Refused a login: too many attempts")
		return Identity{}, &httpError{status: http.StatusTooManyRequests, code: errRateLimited,
			message: "too many login attempts; try again later", retryAfter: retryAfterSeconds(wait)}
	}
	id, err := s.auth.Authenticate(r.Context(), username, password)
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, ErrInvalidCredentials):
		log.Info("Refused a login: invalid credentials")
		return Identity{}, &httpError{status: http.StatusUnauthorized, code: errUnauthenticated,
			message: "the user name or password is incorrect"}
	case errors.Is(err, ErrIdentityUnavailable):
		log.Error(err, "Failed to check credentials with vCenter")
		return Identity{}, &httpError{status: http.StatusServiceUnavailable, code: errUnavailable,
			message: "vCenter cannot check credentials now; try again later", retryAfter: "10"}
	default:
		log.Error(err, "Failed to check credentials")
		return Identity{}, &httpError{status: http.StatusInternalServerError, code: errInternal,
			message: "the credentials could not be checked"}
	}
}

// rateKey names the user a login attempt counts against: every spelling
// of a user name (user@domain, DOMAIN\user, any case) is the same SSO user.
func rateKey(username string) string {
	if p, err := ParseUsername(username); err == nil {
		return strings.ToLower(p.String())
	}
	return strings.ToLower(strings.TrimSpace(username))
}

// sourceAddress is the client's IP address (the load balancer's when it
// does not pass the client's through).
func sourceAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// retryAfterSeconds is wait in whole seconds, at least one.
func retryAfterSeconds(wait time.Duration) string {
	secs := int(math.Ceil(wait.Seconds()))
	return strconv.Itoa(max(secs, 1))
}
