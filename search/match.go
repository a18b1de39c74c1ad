package search

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"text/template"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Catalog is what the matcher needs of the runbook library.
type Catalog interface {
	Pages() []*runbooks.Runbook
	// Rules are the alert rules of the rules sources (none when there
	// are no such sources).
	Rules() []runbooks.Rule
	Config(source string) (runbooks.SourceConfig, bool)
	// Version changes whenever the pages or the rules do.
	Version() uint64
}

// Rules, in order of authority.
const (
	RuleRunbookURL = "runbook_url"
	RuleBinding    = "binding"
	RuleName       = "name"
	RulePath       = "path"
	RuleText       = "text"
)

// Candidate is a runbook proposed for an alert.
type Candidate struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Path   string `json:"path"`
	Title  string `json:"title"`
	// Anchor is the section to open (from the runbook_url's #fragment).
	Anchor string `json:"anchor,omitempty"`
	// Rule is the rule that found the page; Reason says why, for a person.
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
	// Score is the confidence, from 0 to 1.
	Score float64 `json:"score"`
	// LowConfidence marks a candidate found by moderate evidence only
	// (its words, or a path that names the alert's service): worth
	// showing as a suggestion, not attaching as the incident's runbook.
	LowConfidence bool `json:"low_confidence,omitempty"`
}

// ConfidentScore is the score from which a candidate found by its words or
// its path is confident: when its text has every word of the alert and
// its path names the alert's service, or nearly. A candidate found by an
// explicit rule (link, binding, name) is always confident.
const ConfidentScore = 0.65

// DefaultFloor is the confidence below which a candidate is not worth
// showing even as a suggestion: better nothing than noise at 3 AM. A
// page whose path names the alert's service is always above it.
const DefaultFloor = 0.25

// Matcher finds the runbooks for alerts.
type Matcher struct {
	cat   Catalog
	ix    *Index
	floor float64
	// outcomes, when set, says which runbooks resolved past incidents of
	// an alert (SetOutcomes).
	outcomes func(ctx context.Context, alert string) map[string]int

	mu      sync.Mutex
	version uint64
	lookup  *lookup
}

// NewMatcher returns a matcher over the catalog's pages and the index
// (which may be nil: then only the first three rules apply).
func NewMatcher(cat Catalog, ix *Index) *Matcher {
	return &Matcher{cat: cat, ix: ix, floor: DefaultFloor}
}

// SetOutcomes lets what resolved past incidents of an alert weigh in
// its free-text and path candidates: f returns, by runbook ID, how many
// resolved incidents of the alert followed that runbook. Call it before
// the matcher is used.
func (m *Matcher) SetOutcomes(f func(ctx context.Context, alert string) map[string]int) {
	m.outcomes = f
}

// Learning from outcomes is bounded: each past incident a runbook
// resolved adds outcomeStep to its score, at most outcomeMax, and never
// lifts a low-confidence candidate to a confident one. Past use orders
// the pages that might fit; it does not attach one by itself.
const (
	outcomeStep = 0.04
	outcomeMax  = 0.12
)

// lookup holds the maps the first three rules search, built once per
// version of the catalog.
type lookup struct {
	byID       map[string]*runbooks.Runbook
	byPath     map[string][]*runbooks.Runbook // source-relative path, lower case, no extension
	bySuffix   map[string][]*runbooks.Runbook // every trailing run of path segments, lower case, no extension
	byAlias    map[string][]*runbooks.Runbook // alias path, trimmed of slashes, lower case
	byName     map[string][]*runbooks.Runbook // file name, lower case
	byTitle    map[string][]*runbooks.Runbook // title and H1, normalized
	bySegment  map[string][]*runbooks.Runbook // each directory and file name of the path, normalized
	segments   []string                       // the keys of bySegment, made when first asked for
	segOnce    sync.Once
	bindings   []*runbooks.Runbook // pages with front-matter bindings
	sourcesCfg map[string]runbooks.SourceConfig
	rules      *ruleIndex // the alert rules, resolved
}

func (m *Matcher) current() *lookup {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.cat.Version()
	if m.lookup != nil && v == m.version {
		return m.lookup
	}
	lk := &lookup{byID: map[string]*runbooks.Runbook{}, byPath: map[string][]*runbooks.Runbook{},
		bySuffix: map[string][]*runbooks.Runbook{}, byAlias: map[string][]*runbooks.Runbook{},
		byName: map[string][]*runbooks.Runbook{}, byTitle: map[string][]*runbooks.Runbook{},
		bySegment:  map[string][]*runbooks.Runbook{},
		sourcesCfg: map[string]runbooks.SourceConfig{}}
	for _, rb := range m.cat.Pages() {
		lk.byID[rb.ID] = rb
		p := pageKey(rb.Path)
		lk.byPath[rb.Source+":"+p] = append(lk.byPath[rb.Source+":"+p], rb)
		segs := strings.Split(p, "/")
		for i := range segs {
			k := strings.Join(segs[i:], "/")
			lk.bySuffix[k] = append(lk.bySuffix[k], rb)
		}
		if path.Base(p) == "_index" || path.Base(p) == "index" || path.Base(p) == "readme" {
			if dir := path.Dir(p); dir != "." {
				dsegs := strings.Split(dir, "/")
				for i := range dsegs {
					k := strings.Join(dsegs[i:], "/")
					lk.bySuffix[k] = append(lk.bySuffix[k], rb)
				}
			}
		}
		for _, a := range rb.Aliases {
			k := strings.ToLower(strings.Trim(a, "/"))
			lk.byAlias[k] = append(lk.byAlias[k], rb)
		}
		lk.byName[strings.ToLower(rb.Name)] = append(lk.byName[strings.ToLower(rb.Name)], rb)
		for _, seg := range segs {
			if k := normTitle(seg); k != "" && !genericSegment[k] && !containsPage(lk.bySegment[k], rb) {
				lk.bySegment[k] = append(lk.bySegment[k], rb)
			}
		}
		for _, t := range []string{rb.Title, rb.H1} {
			if k := normTitle(t); k != "" && !containsPage(lk.byTitle[k], rb) {
				lk.byTitle[k] = append(lk.byTitle[k], rb)
			}
		}
		for _, b := range rb.Alerts {
			if b.From == runbooks.FromFrontMatter {
				lk.bindings = append(lk.bindings, rb)
				break
			}
		}
		if _, ok := lk.sourcesCfg[rb.Source]; !ok {
			cfg, _ := m.cat.Config(rb.Source)
			lk.sourcesCfg[rb.Source] = cfg
		}
	}
	lk.rules = lk.buildRules(m.cat.Rules())
	m.lookup, m.version = lk, v
	return lk
}

func containsPage(list []*runbooks.Runbook, rb *runbooks.Runbook) bool {
	for _, x := range list {
		if x == rb {
			return true
		}
	}
	return false
}

// pageKey is a page's path in lower case without its markdown extension.
func pageKey(p string) string {
	p = strings.ToLower(p)
	for _, ext := range []string{".md", ".markdown", ".html", ".htm"} {
		p = strings.TrimSuffix(p, ext)
	}
	return strings.Trim(p, "/")
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// normTitle makes "Kube Pod Crash-Looping" and "KubePodCrashLooping" equal.
func normTitle(s string) string { return nonWord.ReplaceAllString(strings.ToLower(s), "") }

// pdTitle is the title Alertmanager gives a PagerDuty incident by default:
// "[FIRING:2] KubePodCrashLooping (prod api-7d9 ...)".
// pdTitlePrefix is the "[FIRING:1]" that such a title starts with.
var pdTitlePrefix = regexp.MustCompile(`^\[(?:FIRING|RESOLVED)(?::\d+)?\]\s*`)

var pdTitle = regexp.MustCompile(`^\[(?:FIRING|RESOLVED)(?::\d+)?\]\s*([A-Za-z_:][A-Za-z0-9_:]*)`)

// AlertName returns the alert's name, taken out of an Alertmanager-made
// PagerDuty title when that is all there is.
func AlertName(a runbooks.Alert) string {
	if n := a.Labels["alertname"]; n != "" {
		return n
	}
	if m := pdTitle.FindStringSubmatch(a.Name); m != nil {
		return m[1]
	}
	return a.Name
}

// AlertMatch is an alert and its runbook candidates: one line of
// `breadcrumb match --json`, one element of POST /api/match's answer.
type AlertMatch struct {
	Alert       string      `json:"alert"`
	Fingerprint string      `json:"fingerprint,omitempty"`
	Status      string      `json:"status,omitempty"`
	Candidates  []Candidate `json:"candidates"`
}

// MatchEach matches every alert, in order, at most limit candidates each
// (an alert with none has an empty list, never nil).
func (m *Matcher) MatchEach(ctx context.Context, alerts []runbooks.Alert, limit int) ([]AlertMatch, error) {
	out := make([]AlertMatch, 0, len(alerts))
	for _, a := range alerts {
		cands, err := m.Match(ctx, a, limit)
		if err != nil {
			return nil, err
		}
		if cands == nil {
			cands = []Candidate{}
		}
		out = append(out, AlertMatch{Alert: AlertName(a), Fingerprint: a.Fingerprint, Status: a.Status, Candidates: cands})
	}
	return out, nil
}

// Match returns the runbooks for an alert, best first, at most limit (0
// means 5), none under the confidence floor.
func (m *Matcher) Match(ctx context.Context, a runbooks.Alert, limit int) ([]Candidate, error) {
	if limit <= 0 {
		limit = 5
	}
	lk := m.current()
	name := AlertName(a)
	found := map[string]*Candidate{}
	var order []string
	add := func(rb *runbooks.Runbook, rule, reason string, score float64, anchor string) {
		if c, ok := found[rb.ID]; ok {
			if score > c.Score {
				c.Score, c.Rule, c.Reason = score, rule, reason
			} else if c.Anchor == "" {
				c.Anchor = anchor
			}
			return
		}
		found[rb.ID] = &Candidate{ID: rb.ID, Source: rb.Source, Path: rb.Path, Title: rb.Title,
			Anchor: anchor, Rule: rule, Reason: reason, Score: score}
		order = append(order, rb.ID)
	}

	// 1. The runbook_url annotation.
	if u := strings.TrimSpace(a.RunbookURL); u != "" {
		for _, r := range lk.resolveURL(renderURL(u, a)) {
			add(r.page, RuleRunbookURL, r.reason, r.score, r.anchor)
		}
	}
	// 1b. Without it (PagerDuty and relays drop annotations), the
	// annotation of the rule that defines the alert.
	rules := lk.rules.rulesFor(name, a.Labels)
	if len(found) == 0 {
		for i, r := range rules {
			res, _ := lk.ruleRunbook(r, a.Labels)
			if res == nil || res.Rule != RuleRunbookURL {
				continue
			}
			rb := lk.byID[res.ID]
			if rb == nil {
				continue
			}
			// The rules whose labels the alert holds most come first.
			score := 0.97 - 0.01*float64(min(i, 5))
			add(rb, RuleAlertRule, fmt.Sprintf("the alert rule %s (%s) links to it", r.Alert, ruleWhere(r)), score, res.Anchor)
		}
	}
	// 2. Front-matter bindings.
	for _, rb := range lk.bindings {
		for _, b := range rb.Alerts {
			if b.From != runbooks.FromFrontMatter || !b.Matches(name, a.Labels) {
				continue
			}
			score, why := 0.9, "bound in its front matter to alert "+name
			switch {
			case b.Name != "" && len(b.Matchers) > 0:
				score, why = 0.92, fmt.Sprintf("bound in its front matter to alert %s with %s", name, matcherList(b.Matchers))
			case b.Name == "":
				score, why = 0.85, "bound in its front matter to alerts with "+matcherList(b.Matchers)
			}
			add(rb, RuleBinding, why, score, "")
			break
		}
	}
	// 3. The alert name is a file name or a title.
	if name != "" {
		for _, rb := range lk.byName[strings.ToLower(name)] {
			add(rb, RuleName, "its file name is the alert's name, "+name, 0.8, "")
		}
		for _, rb := range lk.byTitle[normTitle(name)] {
			add(rb, RuleName, "its title is the alert's name, "+name, 0.75, "")
		}
	}
	// 4. A page whose path names the alert's service or component, and
	// full-text relevance: only when no explicit rule found the page, as
	// the costly rules, and since an alternative to a linked or bound
	// page is noise. Both are moderate evidence, and their candidates
	// are marked low confidence unless they agree.
	explicit := false
	for _, c := range found {
		explicit = explicit || c.Score >= 0.8
	}
	if !explicit {
		paths := lk.pathEvidence(name, a.Labels)
		for _, pe := range paths {
			if !boundElsewhere(pe.page, name, a.Labels) {
				add(pe.page, RulePath, pe.reason, pe.score, "")
			}
		}
		if m.ix != nil {
			if len(rules) > 0 {
				a = withRuleWords(a, rules[0])
			}
			hits, err := m.textCandidates(ctx, a, name, limit*2)
			if err != nil {
				return nil, err
			}
			for _, h := range hits {
				rb := lk.byID[h.ID]
				if rb == nil || boundElsewhere(rb, name, a.Labels) {
					continue
				}
				if pe, ok := paths[rb.ID]; ok {
					// The words and the path agree: above either alone.
					// Confident only when the page also has most of the
					// alert's words; otherwise the score stays under
					// ConfidentScore, in the same order.
					score := math.Min(0.7, h.score+pe.score)
					if h.score < strongText {
						score = 0.47 + 0.17*math.Min(1, (h.score+pe.score)/1.1)
					}
					add(rb, RuleText, h.reason+"; "+pe.reason, score, "")
					continue
				}
				add(rb, RuleText, h.reason, h.score, "")
			}
		}
	}

	var outcomes map[string]int
	if m.outcomes != nil && name != "" {
		outcomes = m.outcomes(ctx, name)
	}
	cands := make([]Candidate, 0, len(order))
	svc := strings.ToLower(a.Service())
	for _, id := range order {
		c := found[id]
		// When two pages claim the alert by the same rule, prefer the one
		// whose service is the alert's.
		if rb := lk.byID[id]; svc != "" && rb != nil && strings.EqualFold(rb.Service, svc) && c.Rule != RuleText {
			c.Score = math.Min(1, c.Score+0.02)
			c.Reason += "; its service is the alert's, " + svc
		}
		if n := outcomes[id]; n > 0 && (c.Rule == RuleText || c.Rule == RulePath) {
			was := c.Score
			c.Score = math.Min(c.Score+math.Min(outcomeMax, outcomeStep*float64(n)), 1)
			if was < ConfidentScore {
				c.Score = math.Min(c.Score, ConfidentScore-0.001)
			}
			times := "once"
			if n > 1 {
				times = fmt.Sprintf("%d times", n)
			}
			c.Reason += fmt.Sprintf("; it resolved this alert %s before", times)
		}
		if c.Score >= m.floor {
			c.LowConfidence = (c.Rule == RuleText || c.Rule == RulePath) && c.Score < ConfidentScore
			cands = append(cands, *c)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].Score != cands[j].Score {
			return cands[i].Score > cands[j].Score
		}
		return cands[i].ID < cands[j].ID
	})
	if len(cands) > limit {
		cands = cands[:limit]
	}
	return cands, nil
}

// boundElsewhere reports whether a page binds this alert's name in its
// front matter with matchers that do not hold: its author said it is not
// the page for this alert, whatever its words.
func boundElsewhere(rb *runbooks.Runbook, name string, labels map[string]string) bool {
	for _, b := range rb.Alerts {
		if b.From == runbooks.FromFrontMatter && b.Name != "" && strings.EqualFold(b.Name, name) && !b.Matches(name, labels) {
			return true
		}
	}
	return false
}

func matcherList(ms []runbooks.Matcher) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, m.String())
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

type textHit struct {
	ID     string
	score  float64
	reason string
}

// textCandidates searches the index with the alert's words: its name split
// into words, its summary and description, boosted towards its service
// and namespace.
func (m *Matcher) textCandidates(ctx context.Context, a runbooks.Alert, name string, limit int) ([]textHit, error) {
	var words []string
	if name != "" {
		words = append(words, name)
	}
	if s := pdTitlePrefix.ReplaceAllString(a.Summary, ""); s != "" && s != name && a.Summary != a.Name {
		words = append(words, s)
	}
	if d := a.Description; d != "" {
		words = append(words, clipText(d, 300))
	}
	text := strings.Join(words, " ")
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	capped := capQuery(text)
	typos, err := m.ix.typos(ctx, capped)
	if err != nil {
		return nil, err
	}
	known, err := m.ix.knownTerms(ctx, capped)
	if err != nil {
		return nil, err
	}
	q := textQuery(capped, false, typos, known)
	var should []query.Query
	if svc := strings.ToLower(a.Service()); svc != "" {
		tq := bleve.NewTermQuery(svc)
		tq.SetField(fService)
		tq.SetBoost(3)
		mq := bleve.NewMatchQuery(svc)
		mq.SetField(fMeta)
		should = append(should, tq, mq)
	}
	if ns := a.Labels["namespace"]; ns != "" {
		mq := bleve.NewMatchQuery(ns)
		mq.SetField(fMeta)
		should = append(should, mq)
	}
	if len(should) > 0 {
		bq := bleve.NewBooleanQuery()
		bq.AddMust(q)
		bq.AddShould(should...)
		q = bq
	}
	// The candidates are picked by the alert's words, its service and
	// its namespace, as the pages are then scored.
	pick := strings.Join([]string{capped, a.Service(), a.Labels["namespace"]}, " ")
	hits, err := m.ix.ranked(ctx, pick, nil, q, nil, nil, limit, m.ix.queryTerms(splitIdentifiers(text)), true)
	if err != nil {
		return nil, err
	}
	// Confidence comes from how many of the alert's words the page has,
	// which does not depend on the size of the corpus as BM25 scores do,
	// scaled by the page's score relative to the best one.
	want := m.ix.analyze(splitIdentifiers(text))
	out := make([]textHit, 0, len(hits))
	for _, h := range hits {
		found := 0
		for term := range want {
			if h.terms[term] {
				found++
			}
		}
		coverage := float64(found) / math.Max(1, float64(len(want)))
		rel := h.Score / math.Max(hits[0].Score, 1e-9)
		out = append(out, textHit{ID: h.ID, score: textConfidence(coverage, rel),
			reason: fmt.Sprintf("its text has %d of the alert's %d words", found, len(want))})
	}
	return out, nil
}

// splitIdentifiers writes each identifier of text as its words
// ("PaymentsErrorsHigh" → "Payments Errors High"), so that the terms of the
// alert counted for confidence are its words, not their joins.
func splitIdentifiers(text string) string {
	words := strings.Fields(text)
	for i, w := range words {
		if parts := splitIdentifier([]byte(w)); parts != nil {
			var ps []string
			for _, p := range parts {
				ps = append(ps, w[p[0]:p[1]])
			}
			words[i] = strings.Join(ps, " ")
		}
	}
	return strings.Join(words, " ")
}

// textConfidence is at most 0.6: text alone never outranks an explicit
// link, binding or name.
func textConfidence(coverage, relative float64) float64 {
	return 0.6 * coverage * (0.5 + 0.5*relative)
}

// renderURL fills a runbook_url that is still a Go template
// ("https://wiki/{{ $labels.service }}") with the alert's labels. A URL that
// is not a valid template is returned as it is.
func renderURL(u string, a runbooks.Alert) string {
	if !strings.Contains(u, "{{") {
		return u
	}
	const prelude = `{{$labels := .Labels}}{{$annotations := .Annotations}}{{$externalLabels := .ExternalLabels}}{{$value := .Value}}`
	t, err := template.New("runbook_url").Option("missingkey=zero").Funcs(template.FuncMap{
		// The functions Prometheus offers in annotations that rewrite text.
		"toLower": strings.ToLower, "toUpper": strings.ToUpper, "title": titleCase,
		"reReplaceAll": func(pattern, repl, text string) string {
			re, err := regexp.Compile(pattern)
			if err != nil {
				return text
			}
			return re.ReplaceAllString(text, repl)
		},
	}).Parse(prelude + u)
	if err != nil {
		return u
	}
	var b bytes.Buffer
	data := map[string]any{"Labels": a.Labels, "Annotations": a.Annotations, "ExternalLabels": map[string]string{}, "Value": ""}
	if err := t.Execute(&b, data); err != nil {
		return u
	}
	return b.String()
}

type resolved struct {
	page   *runbooks.Runbook
	reason string
	score  float64
	anchor string
}

// resolveURL finds the pages a runbook_url points at: through a source's
// repository address (GitHub and GitLab blob and tree links), a source's
// site addresses (a rendered page's path, often lower case without .md),
// the pages' Hugo aliases, a path relative to a source, and, failing all
// of those, the trailing segments of the URL's path.
func (lk *lookup) resolveURL(raw string) []resolved {
	anchor := ""
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw, anchor = raw[:i], raw[i+1:]
	}
	var out []resolved
	addAll := func(pages []*runbooks.Runbook, reason string, score float64) {
		for _, rb := range pages {
			out = append(out, resolved{page: rb, reason: reason, score: score, anchor: anchor})
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		// A path: relative to a source's root, or to the root of its
		// repository.
		p := pageKey(strings.TrimPrefix(raw, "./"))
		for src, cfg := range lk.sourcesCfg {
			addAll(lk.byPath[src+":"+p], "its path is the alert's runbook annotation, "+raw, 1)
			if rp := strings.Trim(cfg.RepoPath, "/"); rp != "" {
				if rest, ok := strings.CutPrefix(p, strings.ToLower(rp)+"/"); ok {
					addAll(lk.byPath[src+":"+rest], "its path in the repository is the alert's runbook annotation, "+raw, 1)
				}
			}
		}
		if len(out) == 0 {
			addAll(lk.bySuffix[p], "its path ends with the alert's runbook annotation, "+raw, 0.9)
		}
		return out
	}
	full := normURL(u)
	for src, cfg := range lk.sourcesCfg {
		if cfg.RepoURL != "" {
			if rest, ok := strings.CutPrefix(full, normURLString(cfg.RepoURL)+"/"); ok {
				rest = strings.TrimPrefix(rest, "/")
				for _, p := range repoPaths(rest, cfg.RepoPath) {
					if pages := lk.byPath[src+":"+pageKey(p)]; len(pages) > 0 {
						addAll(pages, "the alert's runbook_url links to it in the repository", 1)
						break
					}
					if pages := lk.dirIndex(src, p); len(pages) > 0 {
						addAll(pages, "the alert's runbook_url links to its directory in the repository", 0.95)
						break
					}
				}
			}
		}
		for _, site := range cfg.SiteURLs {
			base := normURLString(site)
			rest, ok := strings.CutPrefix(full, base)
			if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
				continue
			}
			p := pageKey(strings.TrimSuffix(strings.Trim(rest, "/"), "/index"))
			if pages := filterSource(lk.byPath[src+":"+p], src); len(pages) > 0 {
				addAll(pages, "the alert's runbook_url is its address on the site "+site, 1)
			} else if pages := filterSource(lk.bySuffix[p], src); p != "" && len(pages) > 0 {
				addAll(pages, "the alert's runbook_url is its address on the site "+site, 0.97)
			}
		}
	}
	if len(out) == 0 {
		if pages := lk.byAlias[strings.ToLower(strings.Trim(u.Path, "/"))]; len(pages) > 0 {
			addAll(pages, "the alert's runbook_url is one of its aliases, "+u.Path, 0.97)
		}
	}
	if len(out) == 0 {
		// No configured address fits: try the URL path's trailing
		// segments, longest first, as a rendered site would name the page.
		// One segment alone must name a page that is not an index or a
		// README ("…/other-repo/blob/main/README.md" is not our README).
		segs := strings.Split(pageKey(strings.TrimSuffix(strings.Trim(u.Path, "/"), "/index")), "/")
		for i := 0; i < len(segs); i++ {
			k := strings.Join(segs[i:], "/")
			if k == "" {
				continue
			}
			pages := lk.bySuffix[k]
			score := 0.9
			if len(segs)-i == 1 {
				score = 0.82
				pages = withoutIndexPages(pages)
			}
			if len(pages) > 0 {
				addAll(pages, "the alert's runbook_url path ends with its path, "+k, score)
				break
			}
		}
	}
	return out
}

// titleCase upper-cases the first letter of each word, as Prometheus's
// title function does.
func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[n:]
	}
	return strings.Join(words, " ")
}

// withoutIndexPages leaves out section indexes and READMEs.
func withoutIndexPages(pages []*runbooks.Runbook) []*runbooks.Runbook {
	var out []*runbooks.Runbook
	for _, rb := range pages {
		switch strings.ToLower(rb.Name) {
		case "_index", "index", "readme":
			continue
		}
		out = append(out, rb)
	}
	return out
}

// dirIndex returns a directory's index page (_index.md, index.md or
// README.md), for tree links.
func (lk *lookup) dirIndex(src, dir string) []*runbooks.Runbook {
	for _, name := range []string{"_index", "index", "readme"} {
		if pages := lk.byPath[src+":"+pageKey(path.Join(dir, name))]; len(pages) > 0 {
			return pages
		}
	}
	return nil
}

func filterSource(pages []*runbooks.Runbook, src string) []*runbooks.Runbook {
	var out []*runbooks.Runbook
	for _, rb := range pages {
		if rb.Source == src {
			out = append(out, rb)
		}
	}
	return out
}

// repoPaths turns what follows a repository address ("blob/main/svc/x.md",
// "-/tree/release/1.2/svc") into the candidate paths inside the source,
// trying each split between a branch name (which may hold slashes) and the
// path.
func repoPaths(rest, repoPath string) []string {
	rest = strings.TrimPrefix(rest, "-/")
	kind, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return nil
	}
	switch kind {
	case "blob", "tree", "raw", "edit", "blame":
	default:
		return nil
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	prefix := strings.Trim(repoPath, "/")
	var out []string
	for i := 1; i < len(segs) && i <= 4; i++ { // the branch is segs[:i]
		p := strings.Join(segs[i:], "/")
		if prefix != "" {
			var ok bool
			if p, ok = strings.CutPrefix(p, prefix+"/"); !ok {
				continue
			}
		}
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
		out = append(out, p)
	}
	return out
}

// normURL and normURLString compare addresses: scheme-less, host in lower
// case, no trailing slash, no ".git".
func normURL(u *url.URL) string {
	p := u.EscapedPath()
	if up, err := url.PathUnescape(p); err == nil {
		p = up
	}
	return strings.ToLower(u.Host) + strings.TrimSuffix(strings.TrimSuffix(p, "/"), ".git")
}

func normURLString(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return strings.TrimSuffix(s, "/")
	}
	return normURL(u)
}

// genericSegment lists directory and file names that name no service:
// a page's path that holds them says nothing about what it documents.
var genericSegment = map[string]bool{
	"docs": true, "doc": true, "runbooks": true, "runbook": true, "readme": true, "index": true,
	"troubleshooting": true, "alerts": true, "alert": true, "howto": true, "services": true,
	"service": true, "playbooks": true, "playbook": true, "content": true, "wiki": true,
	"uncategorized": true, "general": true, "misc": true, "common": true, "team": true, "teams": true,
}

// pathLabels are the labels that name what an alert is about, with how
// much a page whose path names their value is worth.
var pathLabels = []struct {
	label string
	score float64
}{
	{"service", 0.4}, {"type", 0.4}, {"component", 0.4}, {"app", 0.38}, {"app_kubernetes_io_name", 0.38},
	{"app_kubernetes_io_component", 0.36}, {"job", 0.34}, {"container", 0.32}, {"deployment", 0.32},
	{"statefulset", 0.32}, {"daemonset", 0.32}, {"namespace", 0.28},
}

type pathHit struct {
	page   *runbooks.Runbook
	score  float64
	reason string
}

// strongText is the text confidence from which a page whose path also
// names the alert's service is a confident candidate: its text has about
// three quarters of the alert's words.
const strongText = 0.45

// nameWordScore is what a page whose path names a word of the alert's
// name is worth: less than a label, which says what the alert is about.
const nameWordScore = 0.3

// pathEvidence returns, by page ID, the pages whose path names the value
// of one of the alert's pathLabels, or a word of its name, compared
// without case or punctuation: docs/gitaly/README.md for an alert with
// type=gitaly, or for GitalyFileServerDown. A directory's index page or
// README is the service's own page, and counts a little more than the
// other pages in it.
func (lk *lookup) pathEvidence(name string, labels map[string]string) map[string]pathHit {
	out := map[string]pathHit{}
	type clue struct {
		what, value string
		score       float64
	}
	var clues []clue
	for _, pl := range pathLabels {
		if v := labels[pl.label]; v != "" {
			clues = append(clues, clue{"the alert's " + pl.label, v, pl.score})
		}
	}
	for i, w := range nameWords(name) {
		score := nameWordScore
		if i == 0 {
			// The name's first word is most often what the alert is
			// about: Patroni in PatroniIsDown.
			score += 0.08
		}
		clues = append(clues, clue{"a word of the alert's name", w, score})
	}
	for _, c := range clues {
		k := normTitle(c.value)
		if k == "" || genericSegment[k] {
			continue
		}
		pages := lk.bySegment[k]
		if len(pages) == 0 && len(k) >= 6 {
			// A path that names the service shortly: elastic for an
			// Elasticsearch alert.
			for _, seg := range lk.segmentKeys() {
				if len(seg) >= 4 && strings.HasPrefix(k, seg) {
					pages = append(pages, lk.bySegment[seg]...)
				}
			}
			c.score -= 0.04
		}
		for _, rb := range pages {
			score := c.score
			switch strings.ToLower(rb.Name) {
			case "readme", "index", "_index":
				score += 0.05
			}
			if strings.EqualFold(normTitle(rb.Name), k) {
				score += 0.03
			}
			if prev, ok := out[rb.ID]; ok && prev.score >= score {
				continue
			}
			out[rb.ID] = pathHit{page: rb, score: score,
				reason: fmt.Sprintf("its path names %s, %s", c.what, c.value)}
		}
	}
	return out
}

// nameWords returns the words of an alert's name of four letters or more,
// and its adjacent words joined in twos and threes ("RedisClusterCache"
// gives redis, cluster, cache, rediscluster, clustercache and
// redisclustercache), as paths name services.
func nameWords(name string) []string {
	var words []string
	for _, f := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		parts := splitIdentifier([]byte(f))
		if parts == nil {
			words = append(words, f)
			continue
		}
		for _, p := range parts {
			words = append(words, f[p[0]:p[1]])
		}
	}
	var out []string
	for i := range words {
		for n := 1; n <= 3 && i+n <= len(words); n++ {
			w := strings.Join(words[i:i+n], "")
			if len(w) >= 4 {
				out = append(out, w)
			}
		}
	}
	return out
}

// segmentKeys returns the keys of bySegment.
func (lk *lookup) segmentKeys() []string {
	lk.segOnce.Do(func() {
		lk.segments = make([]string, 0, len(lk.bySegment))
		for k := range lk.bySegment {
			lk.segments = append(lk.segments, k)
		}
		sort.Strings(lk.segments)
	})
	return lk.segments
}
