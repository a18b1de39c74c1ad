package console

import (
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// coverageWindow bounds the incidents the coverage page reads.
const coverageWindow = 5000

// Coverage is what the runbooks cover, as the incidents saw it.
type Coverage struct {
	// Incidents is the number of incidents read.
	Incidents int
	// Unmatched are alerts (by name) whose incidents had no runbook,
	// most frequent first.
	Unmatched []Count
	// Unused are runbooks that no incident used, by ID.
	Unused []string
	// Skipped are steps skipped, most often first.
	Skipped []Count
	// Used are runbooks by the number of incidents that used them.
	Used []Count
}

// Count is a name and how often it came up.
type Count struct {
	Name  string
	Ref   string // a runbook ID, when the name is a step or a runbook
	Count int
	// Of is, for a skipped step, the number of incidents its runbook
	// was used in: a step skipped in every one of them (Always) is one
	// its authors should look at.
	Of int
}

// Always reports whether a skipped step was skipped every time its
// runbook was used, and it was used more than once.
func (c Count) Always() bool { return c.Of > 1 && c.Count == c.Of }

// ComputeCoverage reads incidents against the runbook pages.
func ComputeCoverage(list []*incidents.Incident, pageIDs []string) Coverage {
	cc := newCoverageCount()
	for _, inc := range list {
		cc.add(inc)
	}
	return cc.result(pageIDs)
}

// coverageCount adds incidents up one at a time, keeping counts only: the
// coverage page reads its window of incidents a page at a time.
type coverageCount struct {
	incidents int
	unmatched map[string]int
	used      map[string]int
	skipped   map[[2]string]int
}

func newCoverageCount() *coverageCount {
	return &coverageCount{unmatched: map[string]int{}, used: map[string]int{}, skipped: map[[2]string]int{}}
}

func (cc *coverageCount) add(inc *incidents.Incident) {
	cc.incidents++
	if inc.Runbook == nil {
		names := map[string]bool{}
		for _, a := range inc.Alerts {
			names[a.Name] = true
		}
		if len(names) == 0 {
			names[inc.Title] = true
		}
		for n := range names {
			cc.unmatched[n]++
		}
		return
	}
	cc.used[inc.Runbook.ID]++
	for _, st := range inc.Steps {
		if st.State == incidents.StepSkipped {
			cc.skipped[[2]string{inc.Runbook.ID, strconv.Itoa(st.Number) + ". " + st.Title}]++
		}
	}
}

func (cc *coverageCount) result(pageIDs []string) Coverage {
	cov := Coverage{Incidents: cc.incidents}
	unmatched, used, skipped := cc.unmatched, cc.used, cc.skipped
	for n, c := range unmatched {
		cov.Unmatched = append(cov.Unmatched, Count{Name: n, Count: c})
	}
	for id, c := range used {
		cov.Used = append(cov.Used, Count{Name: id, Ref: id, Count: c})
	}
	for k, c := range skipped {
		cov.Skipped = append(cov.Skipped, Count{Name: k[1], Ref: k[0], Count: c, Of: used[k[0]]})
	}
	for _, id := range pageIDs {
		if used[id] == 0 {
			cov.Unused = append(cov.Unused, id)
		}
	}
	for _, l := range [][]Count{cov.Unmatched, cov.Used, cov.Skipped} {
		sort.Slice(l, func(i, j int) bool {
			if l[i].Count != l[j].Count {
				return l[i].Count > l[j].Count
			}
			return l[i].Ref+l[i].Name < l[j].Ref+l[j].Name
		})
	}
	sort.Strings(cov.Unused)
	return cov
}

func (c *Console) coverage(w http.ResponseWriter, r *http.Request) {
	cc := newCoverageCount()
	err := c.cfg.Incidents.Each(r.Context(), incidents.Filter{Limit: coverageWindow}, func(inc *incidents.Incident) error {
		cc.add(inc)
		return nil
	})
	if err != nil {
		c.fail(w, "listing incidents", err)
		return
	}
	var ids []string
	for _, p := range c.cfg.Library.Pages() {
		if !p.Index {
			ids = append(ids, p.ID)
		}
	}
	data := map[string]any{"Title": "Coverage", "Cov": cc.result(ids)}
	if c.cfg.Rules != nil {
		data["Rules"] = rulesCoverage(c.cfg.Rules())
		if c.cfg.RulesStatus != nil {
			data["RulesStatus"] = c.cfg.RulesStatus()
		}
	}
	c.render(w, http.StatusOK, "coverage.html", data)
}

// RulesCoverage is what the alert rules say of the runbooks: the rules
// without one, and those whose link leads to no page.
type RulesCoverage struct {
	Total   int
	Covered int
	Missing []search.RuleReport // no runbook at all
	Broken  []search.RuleReport // a runbook link that leads to no page
}

func rulesCoverage(reports []search.RuleReport) RulesCoverage {
	rc := RulesCoverage{Total: len(reports)}
	for _, r := range reports {
		switch {
		case r.Runbook == nil:
			rc.Missing = append(rc.Missing, r)
		default:
			rc.Covered++
		}
		if r.BrokenLink != "" {
			rc.Broken = append(rc.Broken, r)
		}
	}
	return rc
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days ago"
}

// marked renders a snippet with its matched words in <mark>, escaping
// everything else.
func marked(s search.Snippet) template.HTML {
	var b strings.Builder
	pos := 0
	for _, m := range s.Marks {
		if m[0] < pos || m[1] > len(s.Text) || m[0] > m[1] {
			continue
		}
		b.WriteString(template.HTMLEscapeString(s.Text[pos:m[0]]))
		b.WriteString("<mark>")
		b.WriteString(template.HTMLEscapeString(s.Text[m[0]:m[1]]))
		b.WriteString("</mark>")
		pos = m[1]
	}
	b.WriteString(template.HTMLEscapeString(s.Text[pos:]))
	return template.HTML(b.String()) //nolint:gosec // every part is escaped above
}

func sevText(n int) string {
	if n == 0 {
		return "–"
	}
	return "SEV" + strconv.Itoa(n)
}
