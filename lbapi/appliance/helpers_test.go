package appliance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/haproxytech/client-native/v6/models"

	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/test/wait"
)

// start runs an appliance for the test with user admin/s3cret.
func start(t *testing.T, opts appliance.Options) (*appliance.Appliance, *client) {
	t.Helper()
	opts.Dir, opts.Username, opts.Password = t.TempDir(), "admin", "s3cret"
	if opts.ReloadDelay == 0 {
		opts.ReloadDelay = 200 * time.Millisecond
	}
	a, err := appliance.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	ver := opts.APIVersion
	if ver == "" {
		ver = "v3"
	}
	return a, &client{t: t, base: a.URL, user: "admin", pass: "s3cret", ver: ver}
}

type client struct {
	t    *testing.T
	base string
	user string
	pass string
	// ver is the API major the helpers' paths use.
	ver string
}

func (c *client) do(method, path string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.SetBasicAuth(c.user, c.pass)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, out
}

// svc is the services/haproxy prefix of the client's major.
func (c *client) svc() string { return "/" + c.ver + "/services/haproxy" }

func (c *client) version() int64 {
	c.t.Helper()
	code, _, body := c.do("GET", c.svc()+"/configuration/version", nil)
	v, err := strconv.ParseInt(string(bytes.TrimSpace(body)), 10, 64)
	if code != 200 || err != nil {
		c.t.Fatalf("version: %d %s", code, body)
	}
	return v
}

// begin starts a transaction on the current version and returns its ID.
func (c *client) begin() string {
	c.t.Helper()
	code, _, body := c.do("POST", fmt.Sprintf("%s/transactions?version=%d", c.svc(), c.version()), nil)
	var tx models.Transaction
	if code != 201 || json.Unmarshal(body, &tx) != nil || tx.ID == "" {
		c.t.Fatalf("start transaction: %d %s", code, body)
	}
	return tx.ID
}

// mustWrite sends a write that must answer want.
func (c *client) mustWrite(method, path string, body any, want int) []byte {
	c.t.Helper()
	code, _, out := c.do(method, path, body)
	if code != want {
		c.t.Fatalf("%s %s: want %d, got %d %s", method, path, want, code, out)
	}
	return out
}

// commit commits a transaction and returns the Reload-ID.
func (c *client) commit(tid string) string {
	c.t.Helper()
	code, h, body := c.do("PUT", c.svc()+"/transactions/"+tid, nil)
	if code != 202 || h.Get("Reload-ID") == "" {
		c.t.Fatalf("commit: want 202 with a Reload-ID, got %d %s", code, body)
	}
	return h.Get("Reload-ID")
}

// waitReload polls a reload until it is no longer in progress.
func (c *client) waitReload(id string) models.Reload {
	c.t.Helper()
	var r models.Reload
	wait.For(c.t, 30*time.Second, "reload "+id+" to finish", func() (bool, error) {
		code, _, body := c.do("GET", c.svc()+"/reloads/"+id, nil)
		r = models.Reload{}
		if code != 200 || json.Unmarshal(body, &r) != nil {
			c.t.Fatalf("reload %s: %d %s", id, code, body)
		}
		return r.Status != models.ReloadStatusInProgress, fmt.Errorf("reload %s is %s", id, r.Status)
	})
	return r
}

// eventually polls reach until it answers want.
func eventually(t *testing.T, what string, reach func() string, want string) {
	t.Helper()
	wait.For(t, 30*time.Second, what, func() (bool, error) {
		got := reach()
		return got == want, fmt.Errorf("want %q, got %q", want, got)
	})
}
