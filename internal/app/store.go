package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/redisstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/redis/go-redis/v9"
)

// IncidentStorePath is the embedded store's file in the data directory.
func IncidentStorePath(cfg *Config) string { return filepath.Join(cfg.DataDir, "incidents.db") }

// Backend is the store the configuration selects, with each thing the
// service asks of it typed: the compiler, not a run-time check, says what
// a store must be able to do.
type Backend struct {
	Store    incidents.Store
	Inbox    inbox.Inbox
	Leaser   replica.Leaser
	Bulletin replica.Bulletin
	// Where names the store for the log: the file, or "redis HOST:PORT".
	Where string
	close func() error
}

// Close closes the store and what it owns (a Redis client).
func (b Backend) Close() error { return b.close() }

// OpenBackend opens the store the configuration selects: Redis when
// url (BREADCRUMB_REDIS_URL) is set, else the embedded store under the data
// directory. wait is how long to wait for the embedded store's lock.
func OpenBackend(cfg *Config, url secret.String, wait time.Duration) (Backend, error) {
	if !url.IsZero() {
		opts, err := redis.ParseURL(url.Reveal())
		if err != nil {
			// The URL may hold a password: say what is wrong, not what it is.
			return Backend{}, configError(errors.New("BREADCRUMB_REDIS_URL is not a valid redis:// or rediss:// URL"))
		}
		client := redis.NewClient(opts)
		st := redisstore.New(client, redisstore.Options{Prefix: cfg.Redis.Prefix})
		return Backend{Store: st, Inbox: st, Leaser: st, Bulletin: st, Where: "redis " + opts.Addr,
			close: func() error { return errors.Join(st.Close(), client.Close()) }}, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return Backend{}, err
	}
	p := IncidentStorePath(cfg)
	st, err := boltstore.Open(p, boltstore.Options{Timeout: wait})
	if err != nil {
		return Backend{}, err
	}
	return Backend{Store: st, Inbox: st, Leaser: st, Bulletin: st, Where: p, close: st.Close}, nil
}

// redisLogger sends the Redis client's own notes (a connection pool that
// cannot dial, say) to the service's log instead of plain text on stderr.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(_ context.Context, format string, v ...any) {
	r.l.Warn(fmt.Sprintf(format, v...))
}

// ErrStoreHeld is the error of an embedded store that another process
// (a running serve) holds.
var ErrStoreHeld = boltstore.ErrLocked
