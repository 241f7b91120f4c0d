package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/haproxytech/client-native/v6/models"
)

var (
	// ErrConflict is a 409: the version moved on, or the object exists.
	ErrConflict = errors.New("conflict")
	// ErrOutdated is a 406: the transaction began from an older version.
	ErrOutdated = errors.New("transaction outdated")
	// ErrNotFound is a 404.
	ErrNotFound = errors.New("not found")
	// ErrInvalid is a configuration HAProxy or the API's schema refused: a
	// 400 at commit (haproxy -c failed; the transaction is failed and the
	// version did not move), a 400 "validation error" of a direct write, or
	// a 422. Retrying the same change cannot succeed.
	ErrInvalid = errors.New("invalid configuration")
	// ErrUnauthorized is a 401: the server refused the credentials.
	ErrUnauthorized = errors.New("unauthorized")
)

// Client talks to one Data Plane API server.
type Client struct {
	// BaseURL is scheme://host:port.
	BaseURL string
	// HTTP carries the TLS configuration.
	HTTP               *http.Client
	Username, Password string
	// APIVersion is "v3" or "v2"; Detect sets it.
	APIVersion string
}

// Detect finds which major version the server speaks.
func (c *Client) Detect(ctx context.Context) (string, error) {
	for _, v := range []string{"v3", "v2"} {
		code, _, _, err := c.raw(ctx, http.MethodGet, "/"+v+"/info", nil, nil)
		if err != nil {
			return "", err
		}
		if code == http.StatusOK {
			c.APIVersion = v
			return v, nil
		}
		if code == http.StatusUnauthorized {
			return "", c.unauthorized()
		}
	}
	return "", fmt.Errorf("data plane API at %s answers neither /v3/info nor /v2/info", c.BaseURL)
}

// Version returns the configuration version.
func (c *Client) Version(ctx context.Context) (int64, error) {
	var v int64
	err := c.call(ctx, http.MethodGet, "/configuration/version", nil, nil, &v)
	return v, err
}

// StartTransaction opens a transaction on version.
func (c *Client) StartTransaction(ctx context.Context, version int64) (string, error) {
	var t models.Transaction
	err := c.call(ctx, http.MethodPost, "/transactions", url.Values{"version": {strconv.FormatInt(version, 10)}}, nil, &t)
	return t.ID, err
}

// Commit commits a transaction; the reload is scheduled by the server. A
// configuration HAProxy refuses is ErrInvalid.
func (c *Client) Commit(ctx context.Context, id string) error {
	_, err := c.CommitReload(ctx, id)
	return err
}

// CommitReload commits a transaction and returns the ID of the reload the
// server scheduled for it ("" when it reloaded inline); Reload tells how
// that reload went.
func (c *Client) CommitReload(ctx context.Context, id string) (string, error) {
	h, err := c.do(ctx, http.MethodPut, "/transactions/"+id, nil, nil, nil)
	if err != nil {
		return "", err
	}
	return h.Get("Reload-ID"), nil
}

// CommitForced commits a transaction and has the server reload HAProxy
// before it answers (force_reload=true): no reload is left to wait for.
// The Data Plane API commits first and reloads after, so an error other
// than ErrOutdated or ErrInvalid may come with the commit made (a reload
// command that failed answers 500); the configuration's version tells.
func (c *Client) CommitForced(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodPut, "/transactions/"+id, url.Values{"force_reload": {"true"}}, nil, nil)
	return err
}

// Reload returns a reload's status: in_progress, succeeded or failed (with
// HAProxy's message as Response).
func (c *Client) Reload(ctx context.Context, id string) (*models.Reload, error) {
	var r models.Reload
	if err := c.call(ctx, http.MethodGet, "/reloads/"+id, nil, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Stats returns the running HAProxy process's stats (GET stats/native): v3
// sends one collection, v2 a list of one per process, whose entries are
// merged here. A collection the server could not read (its "error", with a
// 500) is an error.
func (c *Client) Stats(ctx context.Context) (*models.NativeStats, error) {
	if err := c.detected(ctx); err != nil {
		return nil, err
	}
	if c.APIVersion != "v2" {
		var st models.NativeStats
		if err := c.call(ctx, http.MethodGet, "/stats/native", nil, nil, &st); err != nil {
			return nil, err
		}
		if st.Error != "" {
			return nil, fmt.Errorf("stats/native from %s: %s", st.RuntimeAPI, st.Error)
		}
		return &st, nil
	}
	// client-native v5's NativeStatsCollection has v6's NativeStats fields.
	var all []*models.NativeStats
	if err := c.call(ctx, http.MethodGet, "/stats/native", nil, nil, &all); err != nil {
		return nil, err
	}
	out := &models.NativeStats{}
	for _, st := range all {
		if st == nil {
			continue
		}
		if st.Error != "" {
			return nil, fmt.Errorf("stats/native from %s: %s", st.RuntimeAPI, st.Error)
		}
		out.RuntimeAPI = st.RuntimeAPI
		out.Stats = append(out.Stats, st.Stats...)
	}
	return out, nil
}

// DeleteTransaction drops a transaction.
func (c *Client) DeleteTransaction(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, "/transactions/"+id, nil, nil, nil)
}

// Frontends lists frontends.
func (c *Client) Frontends(ctx context.Context, tid string) (models.Frontends, error) {
	var out models.Frontends
	return out, c.list(ctx, "/configuration/frontends", "", "", tid, &out)
}

// Backends lists backends.
func (c *Client) Backends(ctx context.Context, tid string) (models.Backends, error) {
	var out models.Backends
	return out, c.list(ctx, "/configuration/backends", "", "", tid, &out)
}

// Binds lists a frontend's binds.
func (c *Client) Binds(ctx context.Context, frontend, tid string) (models.Binds, error) {
	var out models.Binds
	if err := c.detected(ctx); err != nil {
		return nil, err
	}
	return out, c.list(ctx, c.childPath("frontends", frontend, "binds"), "frontend", frontend, tid, &out)
}

// Servers lists a backend's servers.
func (c *Client) Servers(ctx context.Context, backend, tid string) (models.Servers, error) {
	var out models.Servers
	if err := c.detected(ctx); err != nil {
		return nil, err
	}
	return out, c.list(ctx, c.childPath("backends", backend, "servers"), "backend", backend, tid, &out)
}

// CreateFrontend, CreateBackend, CreateBind and CreateServer add objects in a transaction.
func (c *Client) CreateFrontend(ctx context.Context, f *models.Frontend, tid string) error {
	return c.call(ctx, http.MethodPost, "/configuration/frontends", tx(tid), f, nil)
}

// CreateBackend adds a backend in a transaction.
func (c *Client) CreateBackend(ctx context.Context, b *models.Backend, tid string) error {
	return c.call(ctx, http.MethodPost, "/configuration/backends", tx(tid), b, nil)
}

// CreateBind adds a bind to a frontend in a transaction.
func (c *Client) CreateBind(ctx context.Context, frontend string, b *models.Bind, tid string) error {
	if err := c.detected(ctx); err != nil {
		return err
	}
	return c.call(ctx, http.MethodPost, c.childPath("frontends", frontend, "binds"), c.parent(tx(tid), "frontend", frontend), b, nil)
}

// CreateServer adds a server to a backend in a transaction.
func (c *Client) CreateServer(ctx context.Context, backend string, s *models.Server, tid string) error {
	if err := c.detected(ctx); err != nil {
		return err
	}
	return c.call(ctx, http.MethodPost, c.childPath("backends", backend, "servers"), c.parent(tx(tid), "backend", backend), s, nil)
}

// DeleteFrontend, DeleteBackend and DeleteServer remove objects in a transaction.
func (c *Client) DeleteFrontend(ctx context.Context, name, tid string) error {
	return c.call(ctx, http.MethodDelete, "/configuration/frontends/"+name, tx(tid), nil, nil)
}

// DeleteBackend removes a backend in a transaction.
func (c *Client) DeleteBackend(ctx context.Context, name, tid string) error {
	return c.call(ctx, http.MethodDelete, "/configuration/backends/"+name, tx(tid), nil, nil)
}

// DeleteServer removes a backend's server in a transaction.
func (c *Client) DeleteServer(ctx context.Context, backend, name, tid string) error {
	if err := c.detected(ctx); err != nil {
		return err
	}
	return c.call(ctx, http.MethodDelete, c.childPath("backends", backend, "servers")+"/"+name, c.parent(tx(tid), "backend", backend), nil, nil)
}

// childPath is /configuration/<kind>/<parent>/<child> in v3 and
// /configuration/<child> (with ?<kind>=<parent>) in v2.
func (c *Client) childPath(kind, parent, child string) string {
	if c.APIVersion == "v2" {
		return "/configuration/" + child
	}
	return "/configuration/" + kind + "/" + parent + "/" + child
}

func (c *Client) parent(q url.Values, kind, name string) url.Values {
	if c.APIVersion == "v2" {
		q.Set(kind, name)
	}
	return q
}

func tx(tid string) url.Values { return url.Values{"transaction_id": {tid}} }

// detected makes sure the API version is known before a path or a shape
// that depends on it is chosen.
func (c *Client) detected(ctx context.Context) error {
	if c.APIVersion != "" {
		return nil
	}
	_, err := c.Detect(ctx)
	return err
}

// list decodes a list: a plain array in v3, {"data": [...]} in v2.
func (c *Client) list(ctx context.Context, path, parentKind, parent, tid string, out any) error {
	if err := c.detected(ctx); err != nil {
		return err
	}
	q := url.Values{}
	if tid != "" {
		q.Set("transaction_id", tid)
	}
	if parentKind != "" {
		q = c.parent(q, parentKind, parent)
	}
	if c.APIVersion != "v2" {
		return c.call(ctx, http.MethodGet, path, q, nil, out)
	}
	var wrapped struct {
		Data json.RawMessage `json:"data"`
	}
	if err := c.call(ctx, http.MethodGet, path, q, nil, &wrapped); err != nil {
		return err
	}
	return json.Unmarshal(wrapped.Data, out)
}

func (c *Client) call(ctx context.Context, method, path string, q url.Values, body, out any) error {
	_, err := c.do(ctx, method, path, q, body, out)
	return err
}

// do sends a request under /<major>/services/haproxy and maps error
// statuses to the package's sentinels.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) (http.Header, error) {
	if c.APIVersion == "" {
		if _, err := c.Detect(ctx); err != nil {
			return nil, err
		}
	}
	full := "/" + c.APIVersion + "/services/haproxy" + path
	code, h, data, err := c.raw(ctx, method, full, q, body)
	if err != nil {
		return nil, err
	}
	if code >= 300 {
		return nil, c.statusError(method, full, code, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s %s: undecodable answer: %w", method, full, err)
		}
	}
	return h, nil
}

func (c *Client) statusError(method, path string, code int, data []byte) error {
	if code == http.StatusUnauthorized {
		return c.unauthorized()
	}
	msg := strings.TrimSpace(string(data))
	var apiErr struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &apiErr) == nil && apiErr.Message != "" {
		msg = apiErr.Message
	}
	err := fmt.Errorf("%s %s: %d %s", method, path, code, msg)
	commit := method == http.MethodPut && strings.Contains(path, "/services/haproxy/transactions/")
	switch {
	case code == http.StatusConflict:
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case code == http.StatusNotAcceptable:
		return fmt.Errorf("%w: %w", ErrOutdated, err)
	case code == http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case code == http.StatusUnprocessableEntity,
		code == http.StatusBadRequest && (commit || strings.HasPrefix(msg, "validation error")):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

// unauthorized names the user, never the password.
func (c *Client) unauthorized() error {
	return fmt.Errorf("%w: data plane API at %s refused the credentials of user %q", ErrUnauthorized, c.BaseURL, c.Username)
}

func (c *Client) raw(ctx context.Context, method, path string, q url.Values, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("failed to encode the %s %s body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.BaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.SetBasicAuth(c.Username, c.Password)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("data plane API %s unreachable: %w", c.BaseURL, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("failed to read the answer to %s %s: %w", method, path, err)
	}
	return res.StatusCode, res.Header, data, nil
}

// DeleteBind removes a frontend's bind in a transaction.
func (c *Client) DeleteBind(ctx context.Context, frontend, name, tid string) error {
	if err := c.detected(ctx); err != nil {
		return err
	}
	return c.call(ctx, http.MethodDelete, c.childPath("frontends", frontend, "binds")+"/"+name, c.parent(tx(tid), "frontend", frontend), nil, nil)
}
