package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError answers with {"error": msg}.
func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// apiSearch is GET /api/search?q=WORDS[&limit=N]: the runbooks that best
// match, as {"query", "hits"}.
func (s *server) apiSearch(w http.ResponseWriter, r *http.Request) {
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
	hits, err := s.ix.Search(r.Context(), search.Query{Text: q, Limit: limit})
	switch {
	case errors.Is(err, search.ErrEmptyQuery):
		apiError(w, http.StatusBadRequest, "q is empty: give the words to search for")
		return
	case err != nil:
		s.logger.Error("search failed", "err", err)
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
func (s *server) apiMatch(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAlertsBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiError(w, http.StatusRequestEntityTooLarge, "the body is too large")
			return
		}
		apiError(w, http.StatusBadRequest, "cannot read the body")
		return
	}
	alerts, warning, err := s.alerts.read(r.Context(), body)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if warning != nil {
		s.logger.Warn("pagerduty alerts not fetched; matching the incident's title", "err", warning)
	}
	results, err := matchAll(r.Context(), s.matcher, alerts, 3)
	if err != nil {
		s.logger.Error("match failed", "err", err)
		apiError(w, http.StatusInternalServerError, "match failed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": results})
}
