package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
	"github.com/breadcrumb-oncall/breadcrumb/search/memory"
)

// MaxMatchBody is the largest body POST /api/match reads.
const MaxMatchBody = 10 << 20

// Config is what the API answers from. Library, Index, Matcher and
// Incidents are required; the others may be left out.
type Config struct {
	Library   *runbooks.Library
	Index     *search.Index
	Matcher   *search.Matcher
	Incidents *incidents.Service
	// ReadAlerts turns a webhook body given to POST /api/match into
	// alerts; a warning is logged and the alerts still matched. Without
	// it, /api/match is not served.
	ReadAlerts func(ctx context.Context, body []byte) (alerts []runbooks.Alert, warning, err error)
	// Ready reports whether the runbooks are loaded: /readyz answers 503
	// until it does. Nil means ready.
	Ready func() bool
	// Inbox is asked for its length by /readyz, to know that the store
	// answers; nil skips that check.
	Inbox inbox.Inbox
	// Memory finds the past incidents like one, for
	// GET /api/incidents/{id}/similar; nil leaves that path out.
	Memory Memory
	// Warnings are what /readyz says under its "ok": settings that work
	// but that an operator should know of, such as a webhook left
	// without authentication.
	Warnings []string
	// Metrics, when set, is served at /metrics and times the search and
	// match requests.
	Metrics *Metrics
	Logger  *slog.Logger
}

// Memory is what the API reads of past incidents (search/memory.Index).
type Memory interface {
	Similar(ctx context.Context, inc *incidents.Incident, limit int) ([]memory.Match, error)
	SeenBefore(ctx context.Context, inc *incidents.Incident) (memory.Seen, error)
}

// API serves the JSON API, the probes and the metrics.
type API struct {
	cfg Config
	log *slog.Logger
}

// New returns the API over cfg.
func New(cfg Config) *API {
	a := &API{cfg: cfg, log: cfg.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	timed := func(_ string, h http.HandlerFunc) http.HandlerFunc { return h }
	if a.cfg.Metrics != nil {
		timed = a.cfg.Metrics.Timed
		mux.Handle("GET /metrics", a.cfg.Metrics.Handler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.HandleFunc("GET /api/runbooks", a.apiRunbooks)
	mux.HandleFunc("GET /api/search", timed("search", a.apiSearch))
	if a.cfg.ReadAlerts != nil {
		mux.HandleFunc("POST /api/match", timed("match", a.apiMatch))
	}
	mux.HandleFunc("GET /api/rules", a.apiRules)
	mux.HandleFunc("GET /api/incidents", a.apiIncidents)
	mux.HandleFunc("GET /api/incidents/{id}", a.apiIncident)
	mux.HandleFunc("GET /api/incidents/{id}/report", a.apiReport)
	if a.cfg.Memory != nil {
		mux.HandleFunc("GET /api/incidents/{id}/similar", timed("similar", a.apiSimilar))
	}
}

// readyz answers 200 once the runbooks are loaded and while the incident
// store answers, else 503 with the reason. Under its "ok", one line per
// warning.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Ready != nil && !a.cfg.Ready() {
		http.Error(w, "runbooks not loaded yet", http.StatusServiceUnavailable)
		return
	}
	if a.cfg.Inbox != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := a.cfg.Inbox.Pending(ctx); err != nil {
			a.log.Warn("readiness: the incident store does not answer", "err", err)
			http.Error(w, "the incident store does not answer", http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprintln(w, "ok")
	for _, warn := range a.cfg.Warnings {
		fmt.Fprintln(w, "warning: "+warn)
	}
}

// runbookSummary is one runbook in GET /api/runbooks.
type runbookSummary struct {
	ID          string   `json:"id"`
	Source      string   `json:"source"`
	Path        string   `json:"path"`
	Title       string   `json:"title"`
	Service     string   `json:"service,omitempty"`
	Alerts      []string `json:"alerts"`
	Steps       int      `json:"steps"`
	Problems    int      `json:"problems"`
	Commit      string   `json:"commit,omitempty"`
	Diagnostics []string `json:"diagnostics,omitempty"`
}

func (a *API) summaries() []runbookSummary {
	var out []runbookSummary
	for _, rb := range a.cfg.Library.Pages() {
		sum := runbookSummary{ID: rb.ID, Source: rb.Source, Path: rb.Path, Title: rb.Title, Service: rb.Service,
			Alerts: []string{}, Steps: len(rb.Steps), Problems: rb.Problems(), Commit: rb.Commit}
		for _, al := range rb.Alerts {
			if al.Name != "" {
				sum.Alerts = append(sum.Alerts, al.Name)
			}
		}
		for _, d := range rb.Diagnostics {
			if d.Severity != runbooks.SeverityNote {
				sum.Diagnostics = append(sum.Diagnostics, d.String())
			}
		}
		out = append(out, sum)
	}
	return out
}

// apiRunbooks is GET /api/runbooks: every page served, and the state of
// each source.
func (a *API) apiRunbooks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"runbooks": a.summaries(), "sources": a.cfg.Library.Status()})
}
