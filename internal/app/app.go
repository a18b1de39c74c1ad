package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breadcrumb-oncall/breadcrumb/integrations/breadcrumbs"
	"github.com/breadcrumb-oncall/breadcrumb/internal/api"
	"github.com/breadcrumb-oncall/breadcrumb/internal/console"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/search"
	"github.com/breadcrumb-oncall/breadcrumb/search/memory"
)

// ErrConfig marks the errors of a configuration that cannot work (a bad
// key, a secret file that cannot be read, tokens that do not go
// together): the command exits with its usage status for them, and with
// 1 for the failures of a service that was configured right.
var ErrConfig = errors.New("configuration")

// configError marks err as a configuration error; its message stays
// err's.
func configError(err error) error {
	if err == nil || errors.Is(err, ErrConfig) {
		return err
	}
	return badConfig{err}
}

type badConfig struct{ err error }

func (e badConfig) Error() string        { return e.err.Error() }
func (e badConfig) Unwrap() error        { return e.err }
func (e badConfig) Is(target error) bool { return target == ErrConfig }

// Options is everything the service is started with, resolved once by
// Resolve: the configuration (file, environment, defaults), the secrets,
// the endpoints of the APIs it calls, and the runbook directories given
// on the command line.
type Options struct {
	Config  *Config
	Secrets Secrets
	// RunbookDirs are added as sources, after the configured ones.
	RunbookDirs []string
	// PagerDutyAPIURL and SlackAPIURL replace the APIs' addresses
	// (PAGERDUTY_API_URL, SLACK_API_URL): a proxy, or a test's server.
	PagerDutyAPIURL, SlackAPIURL string
	// TuneGC is set when GOGC is not: the service then picks the
	// collector's target while it indexes and while it serves.
	TuneGC bool
	// Getenv reads what only a part knows the name of: each git source's
	// credentials (the variables its configuration names) and
	// OpenTelemetry's standard variables.
	Getenv func(string) string
	// Version is the build's version, reported with the traces.
	Version string
	// Stdout is where the sign-in link of a run on the embedded defaults
	// is printed (never in the logs); Stderr takes the JSON logs.
	Stdout, Stderr io.Writer
}

// Resolve reads the options from the configuration file (or
// breadcrumb.yaml, or none), the environment and the secrets. Its errors
// are ErrConfig's.
func Resolve(cfgFile string, runbookDirs []string, getenv func(string) string) (Options, error) {
	cfg, err := LoadConfig(cfgFile, getenv)
	if err != nil {
		return Options{}, err
	}
	secrets, err := ReadSecrets(getenv)
	if err != nil {
		return Options{}, err
	}
	return Options{Config: cfg, Secrets: secrets, RunbookDirs: runbookDirs, Getenv: getenv,
		PagerDutyAPIURL: getenv("PAGERDUTY_API_URL"), SlackAPIURL: getenv("SLACK_API_URL"), TuneGC: getenv("GOGC") == ""}, nil
}

// App is the service, opened and not yet serving.
type App struct {
	srv    *server
	ln     net.Listener
	logger *slog.Logger
	// closers run in reverse order when the app stops or fails to start.
	closers []func() error
	// interval is how often the runbook sources are read.
	interval time.Duration
}

// NewLogger returns the JSON logger the service logs through.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// New opens everything the service needs and listens on the configured
// address; Run then serves. A configuration that cannot work is an error
// that wraps ErrConfig. ctx bounds the app's life: the console's chat
// stops with it.
func New(ctx context.Context, o Options) (_ *App, err error) {
	cfg := o.Config
	logger := NewLogger(o.Stderr, cfg.LogLevel)
	redis.SetLogger(redisLogger{logger.With("part", "redis")})
	a := &App{logger: logger, interval: time.Duration(cfg.Runbooks.SyncInterval)}
	defer func() {
		if err != nil {
			a.close() // what was opened before the failure
		}
	}()
	stopTracing, err := setupTracing(ctx, o.Getenv, o.Version, logger)
	if err != nil {
		return nil, configError(err)
	}
	a.closers = append(a.closers, func() error { stopTracing(); return nil })
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("cannot create the data directory: %w", err)
	}
	lib, err := NewLibrary(cfg, o.RunbookDirs, o.Getenv, logger, true)
	if err != nil {
		return nil, configError(err)
	}
	secrets := o.Secrets
	a.ln, err = net.Listen("tcp", cfg.Listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("cannot listen on %s: another program already uses that address. Stop it, or choose another address with BREADCRUMB_LISTEN (such as BREADCRUMB_LISTEN=%s) or listen: in the configuration file", cfg.Listen, nextPort(cfg.Listen))
	}
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", cfg.Listen, err)
	}
	a.closers = append(a.closers, func() error { _ = a.ln.Close(); return nil })
	ix, err := search.Open(search.Config{Dir: filepath.Join(cfg.DataDir, "search"), Logger: logger})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, ix.Close)
	store, err := OpenBackend(cfg, secrets.RedisURL, time.Second)
	if err != nil {
		return nil, fmt.Errorf("incident store: %w", err)
	}
	a.closers = append(a.closers, store.Close)
	past, err := memory.Open(filepath.Join(cfg.DataDir, "memory"), memory.Options{})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, past.Close)
	logger.Info("incident store opened", "store", store.Where)
	matcher := search.NewMatcher(lib, ix)
	// The runbooks that resolved an alert before rank higher among the
	// pages that might fit it (within bounds; see search.SetOutcomes).
	matcher.SetOutcomes(past.Outcomes)
	svc, err := newService(cfg, store.Store, lib, matcher, logger)
	if err != nil {
		return nil, configError(err)
	}
	in, err := newIntake(cfg, o.PagerDutyAPIURL, secrets, store.Inbox, svc, logger)
	if err != nil {
		return nil, configError(err)
	}
	base := publicURL(cfg, a.ln.Addr().String())
	// The past incidents are kept current as incidents change; the
	// keeper is subscribed before the bot, so that the bot's posts do
	// not hold it back.
	keeper := memory.NewKeeper(past, svc, logger.With("part", "memory"))
	svc.Subscribe(keeper)
	chats, err := newChatSide(cfg, o.SlackAPIURL, secrets, store.Store, svc, lib, ix, past, base, logger)
	if err != nil {
		return nil, configError(err)
	}
	logger.Info("chat", "mode", chats.mode)
	warnings := startWarnings(secrets, a.ln.Addr())
	for _, w := range warnings {
		logger.Warn(w)
	}
	elector := newLeadership(cfg, store.Leaser, svc, chats.bot, logger)
	// POST /api/match reads only the body it is given: fetching a
	// PagerDuty incident's alerts with the service's API token for any
	// caller would lend that token to whoever can reach the API. The
	// webhook path fetches them, and so does `breadcrumb match`.
	reader := &AlertReader{}
	srv := &server{lib: lib, logger: logger, ix: ix, matcher: matcher, alerts: reader, incidents: svc, intake: in,
		chats: chats, elector: elector, base: base, loaded: make(chan struct{}), tuneGC: o.TuneGC,
		board: store.Bulletin, metrics: api.NewMetrics(), past: past, keeper: keeper,
		bodyTimeout: time.Duration(cfg.HTTP.BodyTimeout), idleTimeout: time.Duration(cfg.HTTP.IdleTimeout), warnings: warnings}
	srv.registerMetrics()
	consoleToken, tokenForRun := secrets.ConsoleToken, false
	if consoleToken.IsZero() && isLoopback(a.ln.Addr()) {
		// On this machine only (the embedded defaults), the console gets a
		// write token made for this run, so that a newcomer can try the
		// demo and the chat at once; it is shown on the terminal, never in
		// the logs.
		consoleToken, tokenForRun = secret.New(randomHex(16)), true
		fmt.Fprintf(o.Stdout, "\nThe console is at %s/ — to use its chat and demo, sign in at:\n  %s/signin?token=%s\n(a token made for this run; set BREADCRUMB_CONSOLE_TOKEN to choose one)\n\n",
			base, base, consoleToken.Reveal())
	}
	// Behind a proxy that ends TLS, the public address says the browser
	// is on HTTPS: every cookie of the console, the chat's included, is
	// then Secure.
	secureCookies := strings.HasPrefix(base, "https://")
	// The local chat is the console's when Slack is off; the demo posts to
	// this server's own Alertmanager webhook, with its token.
	var localChat http.Handler
	if chats.local != nil {
		localChat = console.NewChat(console.ChatConfig{Bot: chats.bot, Chat: chats.local, PinEmoji: cfg.Slack.PinEmoji,
			SecureCookies: secureCookies, Logger: logger.With("part", "console_chat"), Stop: ctx})
	}
	self := "http://" + a.ln.Addr().String()
	srv.console, err = console.New(console.Config{SecureCookies: secureCookies, Warnings: warnings, Memory: past, TokenForRun: tokenForRun, Incidents: svc, Library: lib, Search: ix, Token: consoleToken, Logger: logger,
		Rules: matcher.Rules, RulesStatus: lib.RulesStatus,
		LinkURL: func(id string, n int) string { return breadcrumbs.RedirectURL(base, id, n) },
		Chat:    localChat, Demo: func(ctx context.Context) error { return sendDemo(ctx, self, secrets.AlertmanagerToken) },
		DemoFits: func() bool { _, ok := lib.Get(DemoRunbook); return ok }})
	if err != nil {
		return nil, configError(err)
	}
	a.srv = srv
	return a, nil
}

// Addr is the address the app listens on.
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// Run serves until ctx ends, then stops everything in order (see
// docs/architecture.md) and closes what New opened. It returns nil after
// a clean stop.
func (a *App) Run(ctx context.Context) error {
	defer a.close()
	return a.srv.serve(ctx, a.ln, a.interval)
}

// close runs the closers, the last opened first.
func (a *App) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.logger.Warn("closing", "err", err)
		}
	}
	a.closers = nil
}

// startWarnings are the settings that work but that an operator should
// know of: they are logged at start, and shown by /readyz and on the
// console's home page.
func startWarnings(secrets Secrets, addr net.Addr) []string {
	var out []string
	if secrets.AlertmanagerToken.IsZero() {
		where := "anyone who can reach this service"
		if isLoopback(addr) {
			where = "any program on this machine"
		}
		out = append(out, "the Alertmanager webhook is unauthenticated: "+where+
			" can open incidents through it. Set ALERTMANAGER_WEBHOOK_TOKEN, and give Alertmanager the same token")
	}
	return out
}

// nextPort suggests the address after addr, on the next port.
func nextPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(port)
	if err != nil || err2 != nil || n <= 0 || n >= 65535 {
		return "127.0.0.1:8081"
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}
