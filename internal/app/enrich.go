package app

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// enricher gives an incident that alerts open its runbook (the matcher's
// best candidate over the firing alerts), the runbook's steps, and the
// links its breadcrumb providers fill.
type enricher struct {
	matcher *search.Matcher
	lib     *runbooks.Library
	// links fills breadcrumbs and dashboards; nil leaves them out.
	links  func(id string, alerts []runbooks.Alert, rb *runbooks.Runbook, now time.Time) []incidents.Link
	now    func() time.Time
	logger *slog.Logger
}

// maxMatchedAlerts bounds the alerts of one group that are matched: a
// storm of hundreds of alerts in one group is one kind of alert.
const maxMatchedAlerts = 5

// maxSuggestions bounds the runbooks suggested to an incident that has
// none attached.
const maxSuggestions = 3

func (e *enricher) Enrich(ctx context.Context, id string, alerts []runbooks.Alert) incidents.Enrichment {
	var best *search.Candidate
	var maybe []search.Candidate
	for i, a := range alerts {
		if i == maxMatchedAlerts {
			break
		}
		cands, err := e.matcher.Match(ctx, a, maxSuggestions)
		if err != nil {
			e.logger.Warn("runbook matching failed", "incident_id", id, "alert", a.Name, "err", err)
			continue
		}
		for _, c := range cands {
			if c.LowConfidence {
				maybe = append(maybe, c)
			} else if best == nil || c.Score > best.Score {
				best = &c
			}
		}
	}
	var out incidents.Enrichment
	var rb *runbooks.Runbook
	if best == nil {
		// Nothing fits well enough to be followed step by step: the
		// responder gets what might fit, and searches to try.
		out.Suggestions = suggestions(maybe)
		out.Searches = search.SuggestedSearches(alerts)
	}
	if best != nil {
		if page, ok := e.lib.Get(best.ID); ok {
			rb = page
			out.Runbook = &incidents.RunbookRef{ID: page.ID, Source: page.Source, Path: page.Path, Title: page.Title,
				Commit: page.Commit, Reason: best.Reason}
			for _, st := range page.Steps {
				out.Steps = append(out.Steps, incidents.StepProgress{Number: st.Number, Title: st.Title})
			}
		}
	}
	if e.links != nil {
		out.Links = e.links(id, alerts, rb, e.now())
	}
	return out
}

// suggestions are the best low-confidence candidates, each page once.
func suggestions(cands []search.Candidate) []incidents.RunbookRef {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Score > cands[j].Score })
	var out []incidents.RunbookRef
	seen := map[string]bool{}
	for _, c := range cands {
		if seen[c.ID] || len(out) == maxSuggestions {
			continue
		}
		seen[c.ID] = true
		out = append(out, incidents.RunbookRef{ID: c.ID, Source: c.Source, Path: c.Path, Title: c.Title, Reason: c.Reason})
	}
	return out
}
