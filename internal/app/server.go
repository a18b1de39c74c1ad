package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
	"github.com/breadcrumb-oncall/breadcrumb/integrations/breadcrumbs"
	"github.com/breadcrumb-oncall/breadcrumb/internal/api"
	"github.com/breadcrumb-oncall/breadcrumb/internal/console"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
	"github.com/breadcrumb-oncall/breadcrumb/search/memory"
)

// The garbage collector's targets when GOGC is not set. While runbooks
// are read and indexed, the heap may grow by half of what is live between
// collections, not by all of it: a large update's peak is a third lower
// (on 10,000 pages: 366 MB instead of 525 MB). While serve only serves,
// the live heap is small and steady (slim pages, the index on disk), and
// collecting half as often takes a third off the search's p99 for about
// 25 MB more (on the same pages, 1,950 searches: p99 4.6-6.0 ms →
// 3.5-3.9 ms at the client, RSS 145 → 170 MB).
const (
	BuildGOGC = 50
	ServeGOGC = 100
)

// server is the service as this version has it: the runbook library and
// the search index kept current, health endpoints, the JSON API (runbooks,
// search, match, incidents) and a read-only list of the runbooks.
type server struct {
	lib       *runbooks.Library
	logger    *slog.Logger
	ix        *search.Index
	matcher   *search.Matcher
	alerts    *AlertReader
	incidents *incidents.Service
	console   *console.Console
	metrics   *api.Metrics
	intake    *intake
	chats     *chatSide
	elector   *replica.Elector
	// board is where the leader publishes the runbook revisions it
	// fetched.
	board replica.Bulletin
	// base is the public address, for links.
	base string
	// loaded is closed once the runbooks are first loaded.
	loaded chan struct{}
	ready  atomic.Bool
	// bodyTimeout and idleTimeout bound a slow or idle client
	// (guard.go).
	bodyTimeout, idleTimeout time.Duration
	// warnings are shown by /readyz (startWarnings).
	warnings []string
	// past is the index of past incidents, which keeper keeps current.
	past   *memory.Index
	keeper *memory.Keeper
	// tuneGC is set when GOGC is not: the sync loop then sets the
	// collector's target to BuildGOGC while it reads and indexes, and to
	// ServeGOGC between syncs.
	tuneGC bool
}

func (s *server) serve(ctx context.Context, ln net.Listener, interval time.Duration) error {
	hs := &http.Server{Handler: s.routes(), ReadHeaderTimeout: headerTimeout, IdleTimeout: s.idleTimeout}
	s.logger.Info("breadcrumb is listening", "addr", "http://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	// The sync loop is stopped and waited for before serve returns, so
	// that no refresh (a git clone into the data directory, a log line)
	// outlives the command.
	// The inbox is processed once the runbooks are loaded, so that the
	// deliveries waiting since the last run find their runbooks; webhooks
	// are taken (stored) from the start.
	workCtx, stopWork := context.WithCancel(context.Background())
	workDone := make(chan func(), 1)
	go func() {
		select {
		case <-s.loaded:
			workDone <- s.intake.run(workCtx, s.logger)
		case <-workCtx.Done():
			workDone <- func() {}
		}
	}()
	waitWork := func() { (<-workDone)() }
	// The past incidents are indexed until the end, after the worker and
	// the chat have made their last changes.
	pastCtx, stopPast := context.WithCancel(context.Background())
	pastDone := make(chan struct{})
	go func() {
		defer close(pastDone)
		s.keeper.Run(pastCtx)
	}()
	defer func() {
		stopPast()
		<-pastDone
	}()
	chatCtx, stopChat := context.WithCancel(context.Background())
	waitChat := s.chats.run(chatCtx, s.logger)
	defer func() {
		// After the inbox worker (whose changes the bot shows) has
		// stopped.
		stopChat()
		waitChat()
	}()
	defer func() {
		// The HTTP server has stopped taking webhooks by now; the worker
		// finishes the deliveries in flight (the others stay in the inbox
		// for the next start).
		stopWork()
		waitWork()
	}()
	// The leader's work (reminders) stops first on the way out, before
	// the bot it posts through.
	leadCtx, stopLead := context.WithCancel(context.Background())
	leadDone := make(chan struct{})
	go func() {
		defer close(leadDone)
		_ = s.elector.Run(leadCtx)
	}()
	defer func() {
		stopLead()
		<-leadDone
	}()
	syncCtx, stopSync := context.WithCancel(ctx)
	synced := make(chan struct{})
	go func() {
		defer close(synced)
		s.syncLoop(syncCtx, interval)
	}()
	defer func() {
		stopSync()
		<-synced
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// syncLoop loads the runbooks at once, then refreshes them every interval
// and whenever the process gets SIGHUP (sync on demand, after a push).
func (s *server) syncLoop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	everything := true // at start and on SIGHUP, every replica fetches
	for {
		if s.tuneGC {
			debug.SetGCPercent(BuildGOGC)
		}
		// A source that fails keeps its last copy; the library has said
		// so in the log, once per source.
		changes, _ := s.refresh(ctx, everything)
		if ctx.Err() != nil {
			return
		}
		if !changes.Empty() || !s.ready.Load() {
			st, err := s.ix.Sync(s.lib, s.matcher.Notes(), nil)
			if err != nil {
				s.logger.Error("search index not updated", "err", err)
			}
			s.lib.ReleaseFresh()
			if st.Indexed >= bulkIndexed || !s.ready.Load() {
				// The pages read whole for a large update, and the index's
				// work space, are garbage now; so are those of the first
				// sync, which parses every page when the parse cache is
				// another build's. Give their memory back to the system
				// rather than keep it for a next time that may not come.
				debug.FreeOSMemory()
			}
		}
		if !s.ready.Load() {
			s.ready.Store(true)
			close(s.loaded)
			s.logger.Info("runbooks ready", "pages", len(s.lib.Pages()))
		}
		if s.tuneGC {
			debug.SetGCPercent(ServeGOGC)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			everything = false
		case <-hup:
			everything = true
			s.logger.Info("runbook sync requested by SIGHUP")
		}
	}
}

// bulkIndexed is the number of pages indexed from which serve gives the
// memory of the update back to the system.
const bulkIndexed = 500

// revisionKey is where the leader publishes the revision of a git source
// it fetched.
func revisionKey(source string) string { return "runbooks:rev:" + source }

// refresh reads the runbooks. Only the leader fetches git sources on the
// interval, and publishes the revision it fetched; a follower fetches a
// source only when the published revision is not the one it serves, so
// the git server sees one poller and the replicas follow the leader. A
// follower that cannot read the board fetches by itself (while the store
// is down, no replica can win the lease).
func (s *server) refresh(ctx context.Context, everything bool) (runbooks.Changes, error) {
	switch {
	case s.board == nil || everything:
		ch, err := s.lib.Refresh(ctx)
		s.publishRevisions(ctx)
		return ch, err
	case s.elector.Leading():
		ch, err := s.lib.RefreshWith(ctx, nil)
		s.publishRevisions(ctx)
		return ch, err
	}
	served := s.lib.Revisions()
	return s.lib.RefreshWith(ctx, func(source string) bool {
		published, ok, err := s.board.Read(ctx, revisionKey(source))
		if err != nil {
			s.logger.Warn("the leader's runbook revision cannot be read; fetching here", "source", source, "err", err)
			return true
		}
		return !ok || published != served[source]
	})
}

// publishRevisions tells the other replicas which revision of each git
// source this leader serves.
func (s *server) publishRevisions(ctx context.Context) {
	if s.board == nil || s.elector == nil || !s.elector.Leading() {
		return
	}
	for source, rev := range s.lib.Revisions() {
		if rev == "" {
			continue
		}
		if err := s.board.Publish(ctx, revisionKey(source), rev); err != nil {
			s.logger.Warn("runbook revision not published for the other replicas", "source", source, "err", err)
		}
	}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	api.New(api.Config{Library: s.lib, Index: s.ix, Matcher: s.matcher, Incidents: s.incidents,
		ReadAlerts: s.alerts.Read, Ready: s.ready.Load, Warnings: s.warnings, Memory: s.past, Inbox: s.intake.inbox, Metrics: s.metrics, Logger: s.logger}).Register(mux)
	mux.Handle("POST /webhooks/pagerduty", s.metrics.Webhook("pagerduty", s.intake.pagerduty))
	mux.Handle("POST /webhooks/alertmanager", s.metrics.Webhook("alertmanager", s.intake.alertmgr))
	mux.Handle(breadcrumbs.RedirectPath, s.intake.redirect)
	s.chats.mount(mux, s.metrics)
	if s.console != nil {
		s.console.Register(mux)
	}
	return newGuard(s.bodyTimeout, s.metrics.Overloaded).wrap(mux)
}

// isLoopback reports whether addr is on this machine only.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
