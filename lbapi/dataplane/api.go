package dataplane

import (
	"context"

	"github.com/haproxytech/client-native/v6/models"
)

// API is the part of the Data Plane API lbapi programs HAProxy through:
// the configuration version, transactions and their reloads, and the
// frontends, binds, backends and servers inside a transaction. An empty
// transaction ID reads the committed configuration.
//
// Errors wrap this package's sentinels: StartTransaction on a version that
// moved is ErrConflict, a commit of a transaction begun on an older version
// is ErrOutdated, a configuration HAProxy refuses is ErrInvalid, a missing
// object, parent, transaction or reload is ErrNotFound, and creating an
// object that exists is ErrConflict.
type API interface {
	// Version returns the committed configuration's version.
	Version(ctx context.Context) (int64, error)
	// StartTransaction opens a transaction on version.
	StartTransaction(ctx context.Context, version int64) (string, error)
	// CommitReload commits a transaction (the version moves on by one) and
	// returns the ID of the reload that loads it ("" when there is none to
	// wait for).
	CommitReload(ctx context.Context, tid string) (string, error)
	// CommitForced commits a transaction and reloads HAProxy before it
	// answers (force_reload=true). An error other than ErrOutdated or
	// ErrInvalid may come after the commit was made, when the reload
	// failed: the version tells.
	CommitForced(ctx context.Context, tid string) error
	// DeleteTransaction drops a transaction.
	DeleteTransaction(ctx context.Context, tid string) error
	// Reload says how a reload went: in_progress, succeeded or failed (with
	// HAProxy's message as Response).
	Reload(ctx context.Context, id string) (*models.Reload, error)

	// Stats is GET stats/native: the frontends, backends and servers of
	// the RUNNING HAProxy process (read through its runtime socket, not
	// from the configuration file). An API without it is ErrNotFound.
	Stats(ctx context.Context) (*models.NativeStats, error)

	Frontends(ctx context.Context, tid string) (models.Frontends, error)
	Backends(ctx context.Context, tid string) (models.Backends, error)
	Binds(ctx context.Context, frontend, tid string) (models.Binds, error)
	Servers(ctx context.Context, backend, tid string) (models.Servers, error)

	CreateFrontend(ctx context.Context, f *models.Frontend, tid string) error
	CreateBackend(ctx context.Context, b *models.Backend, tid string) error
	CreateBind(ctx context.Context, frontend string, b *models.Bind, tid string) error
	CreateServer(ctx context.Context, backend string, s *models.Server, tid string) error
	DeleteFrontend(ctx context.Context, name, tid string) error
	DeleteBackend(ctx context.Context, name, tid string) error
	DeleteBind(ctx context.Context, frontend, name, tid string) error
	DeleteServer(ctx context.Context, backend, name, tid string) error
}

var _ API = (*Client)(nil)
