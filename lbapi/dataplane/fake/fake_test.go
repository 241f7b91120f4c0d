package fake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/haproxytech/client-native/v6/models"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/lbapi/dataplane"
	"github.com/open-supervisor/supervisor/lbapi/dataplane/fake"
)

func frontend(name, backend string) *models.Frontend {
	f := &models.Frontend{}
	f.Name, f.Mode, f.DefaultBackend = name, "tcp", backend
	return f
}

func backend(name string) *models.Backend {
	b := &models.Backend{}
	b.Name, b.Mode = name, "tcp"
	return b
}

// The version and transaction rules callers rely on, as the real API has them.
func TestVersionsAndTransactions(t *testing.T) {
	ctx := context.Background()
	dp := &fake.DataPlane{}
	v, _ := dp.Version(ctx)
	if v != 1 {
		t.Fatalf("a new configuration is at version 1, got %d", v)
	}
	if _, err := dp.StartTransaction(ctx, v+1); !errors.Is(err, dataplane.ErrConflict) {
		t.Fatalf("a transaction on another version is a 409, got %v", err)
	}

	early, _ := dp.StartTransaction(ctx, v)
	late, _ := dp.StartTransaction(ctx, v)
	if err := dp.CreateBackend(ctx, backend("web"), early); err != nil {
		t.Fatal(err)
	}
	if err := dp.CreateBackend(ctx, backend("web"), early); !errors.Is(err, dataplane.ErrConflict) {
		t.Fatalf("creating an existing object is a 409, got %v", err)
	}
	if err := dp.CreateServer(ctx, "nope", &models.Server{Name: "s", Address: "10.0.0.1"}, early); !errors.Is(err, dataplane.ErrNotFound) {
		t.Fatalf("a child of a missing parent is a 404, got %v", err)
	}
	if got, _ := dp.Backends(ctx, ""); len(got) != 0 {
		t.Fatalf("an uncommitted transaction is invisible outside it, saw %d backends", len(got))
	}
	id, err := dp.CommitReload(ctx, early)
	if err != nil || id == "" {
		t.Fatalf("commit: %q %v", id, err)
	}
	if v2, _ := dp.Version(ctx); v2 != v+1 {
		t.Fatalf("a commit moves the version on by one, got %d", v2)
	}
	if r, err := dp.Reload(ctx, id); err != nil || r.Status != models.ReloadStatusSucceeded {
		t.Fatalf("reload %s: %+v %v", id, r, err)
	}
	if _, err := dp.CommitReload(ctx, late); !errors.Is(err, dataplane.ErrOutdated) {
		t.Fatalf("a transaction begun before another commit is a 406, got %v", err)
	}
}

// haproxy -c refuses a commit and leaves the version; a failed reload
// leaves HAProxy serving what it had.
func TestRefusedCommitsAndFailedReloads(t *testing.T) {
	ctx := context.Background()
	dp := &fake.DataPlane{Load: func(c fake.Config) error {
		if _, ok := c.Backends["unbindable"]; ok {
			return errors.New("cannot bind socket")
		}
		return nil
	}}
	tid, _ := dp.StartTransaction(ctx, 1)
	_ = dp.CreateFrontend(ctx, frontend("web", "missing"), tid)
	if _, err := dp.CommitReload(ctx, tid); !errors.Is(err, dataplane.ErrInvalid) {
		t.Fatalf("a frontend without its backend is refused by haproxy -c, got %v", err)
	}
	if v, _ := dp.Version(ctx); v != 1 {
		t.Fatalf("a refused commit leaves the version, got %d", v)
	}
	if err := dp.DeleteTransaction(ctx, tid); err != nil {
		t.Fatal(err)
	}

	tid, _ = dp.StartTransaction(ctx, 1)
	_ = dp.CreateBackend(ctx, backend("web"), tid)
	_ = dp.CreateServer(ctx, "web", &models.Server{Name: "s", Address: "10.0.0.1", Port: ptr.To[int64](80)}, tid)
	_ = dp.CreateFrontend(ctx, frontend("web", "web"), tid)
	if _, err := dp.CommitReload(ctx, tid); err != nil {
		t.Fatal(err)
	}
	tid, _ = dp.StartTransaction(ctx, 2)
	_ = dp.CreateBackend(ctx, backend("unbindable"), tid)
	id, err := dp.CommitReload(ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := dp.Reload(ctx, id); r.Status != models.ReloadStatusFailed || r.Response != "cannot bind socket" {
		t.Fatalf("want the reload failed with HAProxy's message, got %+v", r)
	}
	if _, ok := dp.Loaded().Backends["unbindable"]; ok || len(dp.Loaded().Servers["web"]) != 1 {
		t.Fatal("after a failed reload HAProxy serves what it loaded before")
	}
	if _, ok := dp.Committed().Backends["unbindable"]; !ok {
		t.Fatal("the failed configuration stays in the file")
	}

	// Deleting a section takes its children.
	tid, _ = dp.StartTransaction(ctx, 3)
	_ = dp.DeleteFrontend(ctx, "web", tid)
	if err := dp.DeleteBackend(ctx, "web", tid); err != nil {
		t.Fatal(err)
	}
	if _, err := dp.Servers(ctx, "web", tid); !errors.Is(err, dataplane.ErrNotFound) {
		t.Fatalf("the servers of a deleted backend are gone, got %v", err)
	}
	if err := dp.DeleteBackend(ctx, "web", tid); !errors.Is(err, dataplane.ErrNotFound) {
		t.Fatalf("deleting a missing object is a 404, got %v", err)
	}
}
