package search

import (
	"fmt"
	"sort"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// RuleAlertRule is the matching rule of a page found through the alert
// rule that defines the alert: its runbook annotation, read from the
// rule file when the alert arrives without it.
const RuleAlertRule = "alert_rule"

// RuleRunbook is the page an alert rule leads to, and how.
type RuleRunbook struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Path   string `json:"path"`
	Anchor string `json:"anchor,omitempty"`
	// Rule is how the page was found: runbook_url (the rule's runbook
	// annotation), binding (a page's front matter binds the alert) or
	// name (the alert's name is the page's file name or title).
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// RuleReport is an alert rule with what it resolves to.
type RuleReport struct {
	runbooks.Rule
	// Runbook is the page the rule leads to, nil when none.
	Runbook *RuleRunbook `json:"runbook"`
	// BrokenLink is the rule's runbook annotation when it names a
	// runbook that no source holds, rendered with the rule's labels.
	BrokenLink string `json:"broken_link,omitempty"`
}

// ruleIndex is what the matcher knows of the alert rules, built with the
// lookup of the same catalog version.
type ruleIndex struct {
	reports []RuleReport
	byAlert map[string][]int // alert name → indexes into reports
	notes   map[string]PageNotes
}

// PageNotes is what the index holds of a page beyond the page itself: the
// alert rules that lead to it, by name, and what they say (summaries,
// descriptions and metric names). These are the words responders see on
// their alerts.
type PageNotes struct {
	Alerts []string
	Text   string
}

func (n PageNotes) key() string {
	if len(n.Alerts) == 0 && n.Text == "" {
		return ""
	}
	return strings.Join(n.Alerts, ",") + "\x00" + n.Text
}

// buildRules resolves every rule of the catalog, as the rules command and
// the coverage page show them, and gathers what they say about each page.
func (lk *lookup) buildRules(rules []runbooks.Rule) *ruleIndex {
	ri := &ruleIndex{byAlert: map[string][]int{}, notes: map[string]PageNotes{}}
	seenText := map[string]map[string]bool{}
	for _, r := range rules {
		rep := RuleReport{Rule: r}
		rep.Runbook, rep.BrokenLink = lk.ruleRunbook(r, nil)
		ri.byAlert[strings.ToLower(r.Alert)] = append(ri.byAlert[strings.ToLower(r.Alert)], len(ri.reports))
		ri.reports = append(ri.reports, rep)
		if rep.Runbook == nil {
			continue
		}
		id := rep.Runbook.ID
		n := ri.notes[id]
		if !containsFold(n.Alerts, r.Alert) {
			n.Alerts = append(n.Alerts, r.Alert)
		}
		// The same words come from the warning and the critical rule of
		// one alert: keep them once.
		if t := r.Text(); t != "" {
			if seenText[id] == nil {
				seenText[id] = map[string]bool{}
			}
			if !seenText[id][t] {
				seenText[id][t] = true
				if n.Text != "" {
					n.Text += "\n"
				}
				n.Text += t
			}
		}
		ri.notes[id] = n
	}
	for id, n := range ri.notes {
		sort.Strings(n.Alerts)
		ri.notes[id] = n
	}
	return ri
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// ruleRunbook finds the page a rule leads to: its runbook annotation,
// rendered with the alert's labels over the rule's own (labels may be
// nil), resolved as an alert's is; else a front-matter binding of its
// alert name; else a page named after the alert. broken is the rendered
// annotation when it resolves to no page.
func (lk *lookup) ruleRunbook(r runbooks.Rule, labels map[string]string) (rb *RuleRunbook, broken string) {
	a := ruleAlert(r, labels)
	if a.RunbookURL != "" {
		u := renderURL(a.RunbookURL, a)
		if res := lk.resolveURL(u); len(res) > 0 {
			best := res[0]
			for _, x := range res[1:] {
				if x.score > best.score {
					best = x
				}
			}
			return &RuleRunbook{ID: best.page.ID, Source: best.page.Source, Path: best.page.Path, Anchor: best.anchor,
				Rule: RuleRunbookURL, Reason: "its " + ruleAnnotationKey(r) + " annotation links to it: " + best.reason}, ""
		}
		broken = u
	}
	for _, page := range lk.bindings {
		for _, b := range page.Alerts {
			if b.From == runbooks.FromFrontMatter && b.Name != "" && strings.EqualFold(b.Name, r.Alert) && bindingFits(b, a.Labels) {
				return &RuleRunbook{ID: page.ID, Source: page.Source, Path: page.Path, Rule: RuleBinding,
					Reason: "its front matter binds alert " + r.Alert}, broken
			}
		}
	}
	if pages := lk.byName[strings.ToLower(r.Alert)]; len(pages) > 0 {
		p := pages[0]
		return &RuleRunbook{ID: p.ID, Source: p.Source, Path: p.Path, Rule: RuleName,
			Reason: "its file name is the alert's name, " + r.Alert}, broken
	}
	if pages := lk.byTitle[normTitle(r.Alert)]; len(pages) > 0 {
		p := pages[0]
		return &RuleRunbook{ID: p.ID, Source: p.Source, Path: p.Path, Rule: RuleName,
			Reason: "its title is the alert's name, " + r.Alert}, broken
	}
	return nil, broken
}

func ruleAnnotationKey(r runbooks.Rule) string {
	for _, k := range []string{"runbook_url", "runbook", "runbookURL", "runbook_link", "playbook"} {
		if strings.TrimSpace(r.Annotations[k]) != "" {
			return k
		}
	}
	return "runbook"
}

// ruleAlert is the alert a rule would send: its static labels, with the
// labels of an alert that arrived over them, and its annotations.
func ruleAlert(r runbooks.Rule, labels map[string]string) runbooks.Alert {
	l := r.StaticLabels()
	for k, v := range labels {
		l[k] = v
	}
	l["alertname"] = r.Alert
	a := runbooks.Alert{Name: r.Alert, Labels: l, Annotations: r.Annotations}
	a.Fill()
	return a
}

// rulesFor returns the rules that define an alert: the same alert name,
// and static labels that the alert's labels do not contradict, those
// whose labels it holds most first.
func (ri *ruleIndex) rulesFor(name string, labels map[string]string) []runbooks.Rule {
	if ri == nil || name == "" {
		return nil
	}
	type fit struct {
		r    runbooks.Rule
		held int
	}
	var fits []fit
	for _, i := range ri.byAlert[strings.ToLower(name)] {
		r := ri.reports[i].Rule
		if r.Alert != name && !strings.EqualFold(r.Alert, name) {
			continue
		}
		if held, ok := r.Fits(labels); ok {
			fits = append(fits, fit{r, held})
		}
	}
	sort.SliceStable(fits, func(i, j int) bool { return fits[i].held > fits[j].held })
	out := make([]runbooks.Rule, len(fits))
	for i, f := range fits {
		out[i] = f.r
	}
	return out
}

// ruleWhere names a rule for a person: "rules:kube/alerts.yaml:12".
func ruleWhere(r runbooks.Rule) string {
	return fmt.Sprintf("%s:%s:%d", r.Source, r.Path, r.Line)
}

// Rules returns every alert rule of the catalog, with the runbook each
// leads to (by its runbook annotation, a front-matter binding or a page
// named after the alert), in the catalog's order.
func (m *Matcher) Rules() []RuleReport {
	ri := m.current().rules
	if ri == nil {
		return nil
	}
	return append([]RuleReport(nil), ri.reports...)
}

// Notes returns, by page ID, what the alert rules that lead to each page
// say about it, for the index (see Index.UpdateNoted).
func (m *Matcher) Notes() map[string]PageNotes {
	ri := m.current().rules
	if ri == nil {
		return nil
	}
	return ri.notes
}

// withRuleWords fills an alert's missing summary and description from
// the rule that defines it, without their template actions, and adds the
// names of the metrics the rule reads: an alert relayed by PagerDuty may
// carry nothing but its name.
func withRuleWords(a runbooks.Alert, r runbooks.Rule) runbooks.Alert {
	if a.Summary == "" || a.Summary == a.Name {
		a.Summary = runbooks.StripTemplates(r.Summary())
	}
	if a.Description == "" {
		a.Description = runbooks.StripTemplates(r.Description())
	}
	if ms := runbooks.MetricNames(r.Expr); len(ms) > 0 {
		a.Description = strings.TrimSpace(a.Description + " " + strings.Join(ms, " "))
	}
	return a
}

// bindingFits reports whether a front-matter binding can hold for the
// alerts of a rule with these labels: each matcher on a label the rule
// sets must hold, and a matcher on a label it does not set is left to
// the series (the rule cannot say).
func bindingFits(b runbooks.AlertBinding, labels map[string]string) bool {
	for _, m := range b.Matchers {
		if _, ok := labels[m.Label]; ok && !m.Matches(labels) {
			return false
		}
	}
	return true
}

// maxSearches bounds the searches suggested for alerts.
const maxSearches = 3

// SuggestedSearches returns searches worth trying for a runbook when
// the alerts matched none: each alert's name in words, and its summary
// without its template actions, each once.
func SuggestedSearches(alerts []runbooks.Alert) []string {
	var out []string
	seen := map[string]bool{}
	add := func(q string) {
		q = strings.Join(strings.Fields(q), " ")
		if len(q) > 80 {
			q = clipText(q, 80)
			q = strings.TrimSuffix(q, "…")
		}
		k := strings.ToLower(q)
		if q == "" || seen[k] || len(out) == maxSearches {
			return
		}
		seen[k] = true
		out = append(out, q)
	}
	for _, a := range alerts {
		name := AlertName(a)
		add(strings.ToLower(splitIdentifiers(strings.NewReplacer("_", " ", "-", " ").Replace(name))))
		if a.Summary != "" && a.Summary != a.Name {
			add(runbooks.StripTemplates(pdTitlePrefix.ReplaceAllString(a.Summary, "")))
		}
	}
	return out
}
