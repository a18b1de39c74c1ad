package memory

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// Match is a past incident like the one asked about.
type Match struct {
	Record
	// Score orders the matches; only its order means anything.
	Score float64 `json:"score"`
	// Reasons say why it was chosen: "same alert KubePodCrashLooping",
	// "same runbook", "same service checkout", "same namespace=shop",
	// "similar words: oomkilled, memory".
	Reasons []string `json:"reasons"`
}

// How much each kind of evidence weighs in the query. The alert is the
// strongest: the same alert is the same problem more often than not.
const (
	boostAlert   = 8
	boostRunbook = 4
	boostService = 3
	boostLabel   = 1
	boostWords   = 1
)

// recencyDays is the age at which an incident's weight has fallen
// halfway to its floor: a month, the span of "seen before".
const recencyDays = 30

// Similar returns at most limit past incidents like inc, the best first,
// each with its reasons. inc need not be indexed; it is never its own
// match. An incident that shares nothing but a word or two with inc is
// left out.
func (ix *Index) Similar(ctx context.Context, inc *incidents.Incident, limit int) ([]Match, error) {
	if limit <= 0 {
		limit = 5
	}
	me := NewRecord(inc, nil)
	var clauses []query.Query
	term := func(field, value string, boost float64) {
		q := bleve.NewTermQuery(value)
		q.SetField(field)
		q.SetBoost(boost)
		clauses = append(clauses, q)
	}
	for _, a := range me.Alerts {
		term(fAlert, a, boostAlert)
	}
	if me.RunbookID != "" {
		term(fRunbook, me.RunbookID, boostRunbook)
	}
	if me.Service != "" {
		term(fService, me.Service, boostService)
	}
	for _, l := range me.Labels {
		term(fLabel, l, boostLabel)
	}
	if text := strings.TrimSpace(me.Words); text != "" {
		q := bleve.NewMatchQuery(text)
		q.SetField(fWords)
		q.SetBoost(boostWords)
		clauses = append(clauses, q)
	}
	if len(clauses) == 0 {
		return nil, nil
	}
	// More are read than asked for, since recency and documentation
	// reorder them.
	req := bleve.NewSearchRequestOptions(excluding(bleve.NewDisjunctionQuery(clauses...), inc.ID), limit*4+20, 0, false)
	recs, scores, _, err := ix.search(ctx, req)
	if err != nil {
		return nil, err
	}
	mine := significantWords(me.Title + " " + me.Summary)
	now := ix.now()
	var out []Match
	for i, r := range recs {
		m := Match{Record: r, Reasons: reasons(me, r, mine)}
		if len(m.Reasons) == 0 {
			continue
		}
		m.Score = scores[i] * recency(now, r.CreatedAt) * documented(r)
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// reasons says what r shares with me; nil when it shares too little to
// be worth showing.
func reasons(me, r Record, mine map[string]bool) []string {
	var out []string
	for _, a := range me.Alerts {
		for _, b := range r.Alerts {
			if a == b {
				out = append(out, "same alert "+a)
			}
		}
	}
	strong := len(out) > 0
	if me.RunbookID != "" && me.RunbookID == r.RunbookID {
		out = append(out, "same runbook “"+r.RunbookTitle+"”")
		strong = true
	}
	if me.Service != "" && me.Service == r.Service {
		out = append(out, "same service "+r.Service)
		strong = true
	}
	for _, l := range me.Labels {
		for _, m := range r.Labels {
			if l == m {
				out = append(out, "same "+l)
			}
		}
	}
	var shared []string
	for w := range significantWords(r.Title + " " + r.Summary) {
		if mine[w] {
			shared = append(shared, w)
		}
	}
	sort.Strings(shared)
	if len(shared) > 4 {
		shared = shared[:4]
	}
	if len(shared) > 0 {
		out = append(out, "similar words: "+strings.Join(shared, ", "))
	}
	// Labels alone (a namespace many things run in), or a single shared
	// word, are too little.
	if !strong && len(shared) < 2 {
		return nil
	}
	return out
}

// recency weighs an incident by its age: 1 today, falling towards 0.5.
func recency(now, created time.Time) float64 {
	days := now.Sub(created).Hours() / 24
	if days < 0 {
		days = 0
	}
	return 0.5 + 0.5*math.Exp(-days/recencyDays*math.Ln2)
}

// documented weighs an incident by what people wrote of it: up to a
// third more for notes, a tenth more for knowing what resolved it.
func documented(r Record) float64 {
	w := 1 + 0.05*math.Min(float64(r.Notes), 6)
	if len(r.ResolvedBy) > 0 {
		w += 0.1
	}
	return w
}

// stopWords are left out of "similar words": they say nothing of what
// went wrong.
var stopWords = map[string]bool{
	"with": true, "from": true, "that": true, "this": true, "than": true, "have": true, "been": true,
	"were": true, "will": true, "into": true, "over": true, "when": true, "after": true, "before": true,
	"more": true, "less": true, "high": true, "some": true, "their": true, "there": true, "about": true,
	"incident": true, "alert": true, "firing": true,
}

// significantWords are the words of s of four letters or more, in lower
// case, that are not stop words.
func significantWords(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) >= 4 && !stopWords[w] {
			out[w] = true
		}
	}
	return out
}

// Seen sums up the earlier occurrences of an incident's alerts: the
// incidents of the same alert that were resolved. Those still open are
// the same trouble now, not before (in a storm, dozens of them), and
// tell nothing of what fixed it.
type Seen struct {
	// Count is how many other incidents had one of its alerts in the
	// window, and were resolved.
	Count int `json:"count"`
	// Days is the window, back from now.
	Days int `json:"days"`
	// Last is the most recent of them, with what resolved it.
	Last *Record `json:"last,omitempty"`
}

// SeenWindow is the span that Seen counts over.
const SeenWindow = 30 * 24 * time.Hour

// SeenBefore counts the resolved incidents of the last SeenWindow that
// had one of inc's alerts, besides inc. It is the zero Seen for an incident with no
// alert, or whose alerts were not seen before.
func (ix *Index) SeenBefore(ctx context.Context, inc *incidents.Incident) (Seen, error) {
	seen := Seen{Days: int(SeenWindow / (24 * time.Hour))}
	me := NewRecord(inc, nil)
	if len(me.Alerts) == 0 {
		return seen, nil
	}
	var alerts []query.Query
	for _, a := range me.Alerts {
		q := bleve.NewTermQuery(a)
		q.SetField(fAlert)
		alerts = append(alerts, q)
	}
	from, to := ix.now().Add(-SeenWindow), me.CreatedAt
	if to.IsZero() {
		to = ix.now()
	}
	window := bleve.NewDateRangeQuery(from, to)
	window.SetField(fCreated)
	resolved := bleve.NewTermQuery(string(incidents.StatusResolved))
	resolved.SetField(fStatus)
	q := excluding(bleve.NewConjunctionQuery(bleve.NewDisjunctionQuery(alerts...), window, resolved), inc.ID)
	req := bleve.NewSearchRequestOptions(q, 20, 0, false)
	req.SortBy([]string{"-" + fCreated})
	recs, _, total, err := ix.search(ctx, req)
	if err != nil || len(recs) == 0 {
		return seen, err
	}
	seen.Count = int(total)
	seen.Last = &recs[0]
	return seen, nil
}

// RunbookUse is what the past incidents say of one runbook.
type RunbookUse struct {
	// Incidents counts the incidents it was attached to; Resolved those
	// of them that were resolved.
	Incidents int `json:"incidents"`
	Resolved  int `json:"resolved"`
	// Median is the median time to resolve of those resolved.
	Median time.Duration `json:"median_ns,omitempty"`
	// Recent are the most recent incidents, at most five.
	Recent []Record `json:"recent,omitempty"`
	// Skipped counts, by step title, how often each step was skipped,
	// the most skipped first.
	Skipped []StepCount `json:"skipped,omitempty"`
}

// StepCount is how often a step was skipped.
type StepCount struct {
	Step  string `json:"step"`
	Count int    `json:"count"`
}

// runbookWindow bounds the incidents that RunbookUse reads.
const runbookWindow = 1000

// Runbook sums up the use of the runbook id, over its last thousand
// incidents.
func (ix *Index) Runbook(ctx context.Context, id string) (RunbookUse, error) {
	var use RunbookUse
	q := bleve.NewTermQuery(id)
	q.SetField(fRunbook)
	req := bleve.NewSearchRequestOptions(q, runbookWindow, 0, false)
	req.SortBy([]string{"-" + fCreated})
	recs, _, total, err := ix.search(ctx, req)
	if err != nil {
		return use, err
	}
	use.Incidents = int(total)
	var durations []time.Duration
	skipped := map[string]int{}
	for i, r := range recs {
		if i < 5 {
			use.Recent = append(use.Recent, r)
		}
		if d := r.Duration(); d > 0 {
			use.Resolved++
			durations = append(durations, d)
		}
		for _, s := range r.StepsSkipped {
			skipped[s]++
		}
	}
	if len(durations) > 0 {
		sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
		use.Median = durations[len(durations)/2]
	}
	for s, n := range skipped {
		use.Skipped = append(use.Skipped, StepCount{Step: s, Count: n})
	}
	sort.Slice(use.Skipped, func(i, j int) bool {
		if use.Skipped[i].Count != use.Skipped[j].Count {
			return use.Skipped[i].Count > use.Skipped[j].Count
		}
		return use.Skipped[i].Step < use.Skipped[j].Step
	})
	return use, nil
}

// outcomeWindow bounds the incidents that Outcomes reads.
const outcomeWindow = 500

// Outcomes counts, by runbook ID, the resolved incidents of an alert
// (its last 500) in which the runbook was followed: attached, with a
// step of it done. It is what search.Matcher.SetOutcomes wants; an error
// gives none.
func (ix *Index) Outcomes(ctx context.Context, alert string) map[string]int {
	a := bleve.NewTermQuery(alert)
	a.SetField(fAlert)
	resolved := bleve.NewTermQuery(string(incidents.StatusResolved))
	resolved.SetField(fStatus)
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(a, resolved), outcomeWindow, 0, false)
	req.SortBy([]string{"-" + fCreated})
	recs, _, _, err := ix.search(ctx, req)
	if err != nil || len(recs) == 0 {
		return nil
	}
	out := map[string]int{}
	for _, r := range recs {
		if r.RunbookID != "" && len(r.StepsDone) > 0 {
			out[r.RunbookID]++
		}
	}
	return out
}
