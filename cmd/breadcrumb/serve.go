package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
	"github.com/breadcrumb-oncall/breadcrumb/integrations/breadcrumbs"
	"github.com/breadcrumb-oncall/breadcrumb/internal/api"
	"github.com/breadcrumb-oncall/breadcrumb/internal/console"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// newLogger returns the JSON logger all of the service logs through.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func runServe(ctx context.Context, e env, args []string) int {
	var cfgFile string
	var dirs stringList
	fs := newFlags(e, "serve", &cfgFile)
	fs.Var(&dirs, "runbooks", "add a runbooks `DIR` as a source (repeatable)")
	if rest, code, ok := parseFlags(fs, args); !ok {
		return code
	} else if len(rest) > 0 {
		fmt.Fprintf(e.stderr, "breadcrumb serve: unexpected argument %q\n", rest[0])
		return exitUsage
	}
	cfg, err := loadConfig(cfgFile, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitUsage
	}
	logger := newLogger(e.stderr, cfg.LogLevel)
	redis.SetLogger(redisLogger{logger.With("part", "redis")})
	stopTracing, err := setupTracing(ctx, e.getenv, logger)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitUsage
	}
	defer stopTracing()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		logger.Error("cannot create the data directory", "data_dir", cfg.DataDir, "err", err)
		return exitUsage
	}
	lib, err := newLibrary(cfg, dirs, e.getenv, logger, true)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		logger.Error("cannot listen", "listen", cfg.Listen, "err", err)
		return exitUsage
	}
	ix, err := search.Open(search.Config{Dir: filepath.Join(cfg.DataDir, "search"), Logger: logger})
	if err != nil {
		_ = ln.Close()
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitUsage
	}
	defer ix.Close()
	// POST /api/match reads only the body it is given: fetching a
	// PagerDuty incident's alerts with the service's API token for any
	// caller would lend that token to whoever can reach the API. The
	// webhook path fetches them, and so does `breadcrumb match`.
	reader := &alertReader{}
	store, err := openIncidentStore(cfg, e.getenv, time.Second)
	if err != nil {
		_ = ln.Close()
		fmt.Fprintf(e.stderr, "breadcrumb serve: incident store: %v\n", err)
		return exitUsage
	}
	defer store.Close()
	logger.Info("incident store opened", "store", store.Where)
	matcher := search.NewMatcher(lib, ix)
	svc, err := newService(cfg, store.Store, lib, matcher, logger)
	if err != nil {
		_ = ln.Close()
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitUsage
	}
	in, err := newIntake(cfg, e.getenv, store.Inbox, svc, logger)
	if err != nil {
		_ = ln.Close()
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitUsage
	}
	base := publicURL(cfg, ln.Addr().String())
	chats, err := newChatSide(cfg, e.getenv, store.Store, svc, lib, ix, base, logger)
	if err != nil {
		_ = ln.Close()
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitUsage
	}
	logger.Info("chat", "mode", chats.mode)
	elector := newLeadership(cfg, store.Leaser, svc, chats.bot, logger)
	srv := &server{lib: lib, logger: logger, ix: ix, matcher: matcher, alerts: reader, incidents: svc, intake: in,
		chats: chats, elector: elector, base: base, loaded: make(chan struct{}), tuneGC: e.getenv("GOGC") == ""}
	srv.board = store.Bulletin
	srv.metrics = api.NewMetrics()
	srv.registerMetrics()
	consoleToken, err := readSecret(e.getenv, "BREADCRUMB_CONSOLE_TOKEN")
	if err != nil {
		_ = ln.Close()
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitUsage
	}
	if consoleToken.IsZero() && isLoopback(ln.Addr()) {
		// On this machine only (the embedded defaults), the console gets a
		// write token made for this run, so that a newcomer can try the
		// demo and the chat at once; it is shown on the terminal, never in
		// the logs.
		consoleToken = secret.New(randomHex(16))
		fmt.Fprintf(e.stdout, "\nThe console is at %s/ — to use its chat and demo, sign in at:\n  %s/signin?token=%s\n(a token made for this run; set BREADCRUMB_CONSOLE_TOKEN to choose one)\n\n",
			base, base, consoleToken.Reveal())
	}
	// The local chat is the console's when Slack is off; the demo posts to
	// this server's own Alertmanager webhook, with its token.
	// Behind a proxy that ends TLS, the public address says the browser
	// is on HTTPS: every cookie of the console, the chat's included, is
	// then Secure.
	secureCookies := strings.HasPrefix(base, "https://")
	var localChat http.Handler
	if chats.local != nil {
		localChat = console.NewChat(console.ChatConfig{Bot: chats.bot, Chat: chats.local, PinEmoji: cfg.Slack.PinEmoji,
			SecureCookies: secureCookies, Logger: logger.With("part", "console_chat"), Stop: ctx})
	}
	self := "http://" + ln.Addr().String()
	srv.console, err = console.New(console.Config{SecureCookies: secureCookies, Incidents: srv.incidents, Library: lib, Search: ix, Token: consoleToken, Logger: logger,
		Rules: matcher.Rules, RulesStatus: lib.RulesStatus,
		LinkURL: func(id string, n int) string { return breadcrumbs.RedirectURL(srv.base, id, n) },
		Chat:    localChat, Demo: func(ctx context.Context) error { return sendDemo(ctx, self, in.amToken) }})
	if err != nil {
		_ = ln.Close()
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitUsage
	}
	if err := srv.serve(ctx, ln, time.Duration(cfg.Runbooks.SyncInterval)); err != nil {
		logger.Error("server stopped", "err", err)
		return 1
	}
	return exitOK
}

// server is the service as this version has it: the runbook library and
// the search index kept current, health endpoints, the JSON API (runbooks,
// search, match, incidents) and a read-only list of the runbooks.
type server struct {
	lib       *runbooks.Library
	logger    *slog.Logger
	ix        *search.Index
	matcher   *search.Matcher
	alerts    *alertReader
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
	// tuneGC is set when GOGC is not: the sync loop then sets the
	// collector's target to buildGOGC while it reads and indexes, and to
	// serveGOGC between syncs.
	tuneGC bool
}

func (s *server) serve(ctx context.Context, ln net.Listener, interval time.Duration) error {
	hs := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
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
			debug.SetGCPercent(buildGOGC)
		}
		changes, err := s.refresh(ctx, everything)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.logger.Warn("runbook refresh incomplete", "err", err)
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
			debug.SetGCPercent(serveGOGC)
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
		ReadAlerts: s.alerts.read, Ready: s.ready.Load, Inbox: s.intake.inbox, Metrics: s.metrics, Logger: s.logger}).Register(mux)
	mux.Handle("POST /webhooks/pagerduty", s.metrics.Webhook("pagerduty", s.intake.pagerduty))
	mux.Handle("POST /webhooks/alertmanager", s.metrics.Webhook("alertmanager", s.intake.alertmgr))
	mux.Handle(breadcrumbs.RedirectPath, s.intake.redirect)
	s.chats.mount(mux, s.metrics)
	if s.console != nil {
		s.console.Register(mux)
	}
	return mux
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
