package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/report"
	"github.com/breadcrumb-oncall/breadcrumb/search"
	"github.com/breadcrumb-oncall/breadcrumb/search/memory"
)

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError answers with {"error": msg}.
func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// apiSearch is GET /api/search?q=WORDS[&limit=N]: the runbooks that best
// match, as {"query", "hits"}.
func (a *API) apiSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	limit := 10
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 || n > 100 {
			apiError(w, http.StatusBadRequest, "limit must be a number from 1 to 100")
			return
		}
		limit = n
	}
	hits, err := a.cfg.Index.Search(r.Context(), search.Query{Text: q, Limit: limit})
	switch {
	case errors.Is(err, search.ErrEmptyQuery):
		apiError(w, http.StatusBadRequest, "q is empty: give the words to search for")
		return
	case err != nil:
		a.log.Error("search failed", "err", err)
		apiError(w, http.StatusInternalServerError, "search failed")
		return
	}
	if hits == nil {
		hits = []search.Hit{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"query": q, "hits": hits})
}

// apiMatch is POST /api/match with an Alertmanager v4 or PagerDuty v3
// webhook body: for each alert, its runbook candidates, as {"alerts"}.
func (a *API) apiMatch(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxMatchBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiError(w, http.StatusRequestEntityTooLarge, "the body is too large")
			return
		}
		apiError(w, http.StatusBadRequest, "cannot read the body")
		return
	}
	alerts, warning, err := a.cfg.ReadAlerts(r.Context(), body)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if warning != nil {
		a.log.Warn("pagerduty alerts not fetched; matching the incident's title", "err", warning)
	}
	results, err := a.cfg.Matcher.MatchEach(r.Context(), alerts, 3)
	if err != nil {
		a.log.Error("match failed", "err", err)
		apiError(w, http.StatusInternalServerError, "match failed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": results})
}

// apiIncidents is GET /api/incidents[?status=S][&service=X][&limit=N]
// [&cursor=C]: the incidents, newest first, every status unless narrowed,
// N at a time (100 unless limit says otherwise); while there are more,
// the answer carries "next", the cursor of the page that follows. Each
// incident comes with the caps on alert content applied (see capped).
func (a *API) apiIncidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := incidents.Filter{Service: q.Get("service")}
	if st := q.Get("status"); st == "open" {
		f.Open = true
	} else if st != "" {
		if !incidents.Status(st).Valid() {
			apiError(w, http.StatusBadRequest, "status must be triggered, acknowledged, mitigated, resolved or open")
			return
		}
		f.Statuses = []incidents.Status{incidents.Status(st)}
	}
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 || n > 1000 {
			apiError(w, http.StatusBadRequest, "limit must be a number from 1 to 1000")
			return
		}
		limit = n
	}
	var after incidents.Position
	if c := q.Get("cursor"); c != "" {
		p, ok := decodeCursor(c)
		if !ok {
			apiError(w, http.StatusBadRequest, "cursor is not one that this API gave: pass the next of an answer")
			return
		}
		after = p
	}
	// The incidents are read a page at a time and written as they come,
	// so that a list of a thousand holds one page of them, not all of
	// them and their JSON. One more than the limit is looked for, to know
	// whether another page follows.
	started, written, more := false, 0, false
	var last *incidents.Incident
	err := a.cfg.Incidents.EachAfter(r.Context(), f, after, func(inc *incidents.Incident) error {
		if written == limit {
			more = true
			return errEnough
		}
		data, err := json.Marshal(incidents.CapStored(inc))
		if err != nil {
			return err
		}
		sep := ","
		if !started {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			sep, started = `{"incidents":[`, true
		}
		_, err = io.WriteString(w, sep)
		if err == nil {
			_, err = w.Write(data)
		}
		written, last = written+1, inc
		return err
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	switch {
	case err != nil && !started:
		a.log.Error("listing incidents", "err", err)
		apiError(w, http.StatusInternalServerError, "cannot list incidents")
	case err != nil:
		// The answer is under way: it ends here, cut short, which its
		// reader sees as JSON that does not close.
		a.log.Error("listing incidents", "err", err)
	case !started:
		writeJSON(w, http.StatusOK, map[string]any{"incidents": []*incidents.Incident{}})
	case more:
		next, _ := json.Marshal(encodeCursor(incidents.PositionOf(last)))
		_, _ = io.WriteString(w, `],"next":`+string(next)+"}\n")
	default:
		_, _ = io.WriteString(w, "]}\n")
	}
}

// errEnough stops a walk through the incidents once a page is full.
var errEnough = errors.New("enough")

// encodeCursor makes the cursor of the page that follows p: its creation
// time and ID, opaque to the reader.
func encodeCursor(p incidents.Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(p.CreatedAt.UTC().Format(time.RFC3339Nano) + "\x00" + p.ID))
}

// decodeCursor reads a cursor that encodeCursor made.
func decodeCursor(c string) (incidents.Position, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return incidents.Position{}, false
	}
	at, id, ok := strings.Cut(string(raw), "\x00")
	if !ok || id == "" {
		return incidents.Position{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return incidents.Position{}, false
	}
	return incidents.Position{CreatedAt: t, ID: id}, true
}

// incidentAndTimeline loads an incident and its whole timeline, answering
// 404 or 500 itself when it cannot. Both come with the caps on alert
// content applied (see capped).
func (a *API) incidentAndTimeline(w http.ResponseWriter, r *http.Request) (*incidents.Incident, []incidents.Event, bool) {
	id := r.PathValue("id")
	inc, err := a.cfg.Incidents.Get(r.Context(), id)
	var events []incidents.Event
	if err == nil {
		events, err = a.cfg.Incidents.Timeline(r.Context(), id, 0, 0)
	}
	if err == nil {
		if events == nil {
			events = []incidents.Event{}
		}
		inc, events = capped(inc, events)
		return inc, events, true
	}
	if errors.Is(err, incidents.ErrNotFound) {
		apiError(w, http.StatusNotFound, "no such incident")
		return nil, nil, false
	}
	a.log.Error("reading an incident", "incident_id", id, "err", err)
	apiError(w, http.StatusInternalServerError, "cannot read the incident")
	return nil, nil, false
}

// apiIncident is GET /api/incidents/{id}: the incident and its timeline.
//
// ?after=SEQ&limit=N reads the timeline page by page: the events after
// sequence number SEQ, at most N of them. The answer's "next" is the
// sequence number to ask after for the following page, when there is one.
func (a *API) apiIncident(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("after") == "" && q.Get("limit") == "" {
		if inc, events, ok := a.incidentAndTimeline(w, r); ok {
			writeJSON(w, http.StatusOK, map[string]any{"incident": inc, "timeline": events})
		}
		return
	}
	after, err1 := strconv.ParseInt(orZero(q.Get("after")), 10, 64)
	limit, err2 := strconv.Atoi(orZero(q.Get("limit")))
	if err1 != nil || err2 != nil || after < 0 || limit < 0 || limit > 10000 {
		apiError(w, http.StatusBadRequest, "after must be a sequence number and limit a number from 1 to 10000")
		return
	}
	if limit == 0 {
		limit = 500
	}
	id := r.PathValue("id")
	inc, err := a.cfg.Incidents.Get(r.Context(), id)
	var events []incidents.Event
	if err == nil {
		events, err = a.cfg.Incidents.Timeline(r.Context(), id, after, limit+1)
	}
	switch {
	case errors.Is(err, incidents.ErrNotFound):
		apiError(w, http.StatusNotFound, "no such incident")
		return
	case err != nil:
		a.log.Error("reading an incident", "incident_id", id, "err", err)
		apiError(w, http.StatusInternalServerError, "cannot read the incident")
		return
	}
	inc, events = capped(inc, events)
	resp := map[string]any{"incident": inc}
	if len(events) > limit {
		events = events[:limit]
		resp["next"] = events[len(events)-1].Seq
	}
	if events == nil {
		events = []incidents.Event{}
	}
	resp["timeline"] = events
	writeJSON(w, http.StatusOK, resp)
}

// capped applies the caps on alert content (incidents.MaxValueBytes and
// the others) to an incident and its events as they are read, for those
// stored before the caps held: the Service applies them on arrival, and
// an answer is then as small as what arrives now makes it. It costs a
// pass over the values, and a measure of the incident's JSON when it may
// be over incidents.MaxIncidentBytes. events are changed in place.
func capped(inc *incidents.Incident, events []incidents.Event) (*incidents.Incident, []incidents.Event) {
	for i := range events {
		events[i] = incidents.CapStoredEvent(events[i])
	}
	return incidents.CapStored(inc), events
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// apiReport is GET /api/incidents/{id}/report?format=md|html|json.
func (a *API) apiReport(w http.ResponseWriter, r *http.Request) {
	inc, events, ok := a.incidentAndTimeline(w, r)
	if !ok {
		return
	}
	format := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("format")))
	ext := map[string]string{"": "md", "md": "md", "markdown": "md", "html": "html", "json": "json"}[format]
	if ext == "" {
		apiError(w, http.StatusBadRequest, "format must be md, html or json")
		return
	}
	body, contentType, err := report.Render(inc, events, ext)
	if err != nil {
		a.log.Error("rendering a report", "incident_id", inc.ID, "err", err)
		apiError(w, http.StatusInternalServerError, "cannot render the report")
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Security-Policy", report.ContentSecurityPolicy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", inc.ID+"."+ext))
	}
	_, _ = w.Write(body)
}

// apiRules answers every alert rule with the runbook it resolves to, as
// `breadcrumb rules --json` prints them, and the state of each rules
// source. ?missing=true keeps only the rules without a runbook.
func (a *API) apiRules(w http.ResponseWriter, r *http.Request) {
	missing := r.URL.Query().Get("missing") == "true"
	rules := []search.RuleReport{}
	for _, rep := range a.cfg.Matcher.Rules() {
		if missing && rep.Runbook != nil {
			continue
		}
		rules = append(rules, rep)
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rules, "sources": a.cfg.Library.RulesStatus()})
}

// apiSimilar is GET /api/incidents/{id}/similar[?limit=N]: the past
// incidents most like this one (at most N, 5 unless said, up to 20),
// each with why it is similar and what resolved it, and how often its
// alerts were seen in the last 30 days.
func (a *API) apiSimilar(w http.ResponseWriter, r *http.Request) {
	limit := 5
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 || n > 20 {
			apiError(w, http.StatusBadRequest, "limit must be a number from 1 to 20")
			return
		}
		limit = n
	}
	id := r.PathValue("id")
	inc, err := a.cfg.Incidents.Get(r.Context(), id)
	if errors.Is(err, incidents.ErrNotFound) {
		apiError(w, http.StatusNotFound, "no such incident")
		return
	}
	if err != nil {
		a.log.Error("reading an incident", "incident_id", id, "err", err)
		apiError(w, http.StatusInternalServerError, "cannot read the incident")
		return
	}
	similar, err := a.cfg.Memory.Similar(r.Context(), inc, limit)
	var seen memory.Seen
	if err == nil {
		seen, err = a.cfg.Memory.SeenBefore(r.Context(), inc)
	}
	if err != nil {
		a.log.Error("finding past incidents", "incident_id", id, "err", err)
		apiError(w, http.StatusInternalServerError, "cannot read the past incidents")
		return
	}
	if similar == nil {
		similar = []memory.Match{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"incident": inc.ID, "similar": similar, "seen_before": seen})
}
