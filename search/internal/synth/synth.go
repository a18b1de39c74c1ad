package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Style is the way a page is written.
type Style string

// The styles of the generated pages, in the proportions found in teams'
// runbook repositories.
const (
	StyleYAML  Style = "yaml"  // YAML front matter and named sections (60%)
	StyleHugo  Style = "hugo"  // title and weight, the alert as H1 (25%)
	StylePlain Style = "plain" // an H1, a paragraph and an ordered list (15%)
)

// Corpus describes a generated corpus: its pages, and the queries and
// alerts that a benchmark can replay against it.
type Corpus struct {
	// Dir is the directory the pages were written to.
	Dir string
	// Pages lists every page in the order it was generated.
	Pages []Page
	// Bytes is the total size of the pages.
	Bytes int64
	// Queries are what a responder would type to find a sample of the
	// pages.
	Queries []Query
	// Alerts are alerts that fire for a sample of the pages.
	Alerts []AlertCase
}

// Page is one generated page.
type Page struct {
	// Path is the slash-separated path relative to Dir: the path a
	// runbooks.Library reading Dir gives the page.
	Path    string
	Title   string
	Service string
	Team    string
	// Alert is the name of the alert the page is about; no other page of
	// the corpus is about the same alert.
	Alert string
	Style Style
	Size  int
}

// Query is a search a responder might type, and the pages that answer it.
type Query struct {
	// Text is two to four words taken from a page's title and symptoms,
	// sometimes with a word that says nothing about the page ("prod",
	// "urgent").
	Text string
	// Want holds the paths of every page whose subject has all the
	// meaningful words of Text (for "checkout db lag", every replication
	// lag page of every Postgres and MySQL database of checkout and
	// checkout-eu), sorted. The page the query was made from is always
	// among them.
	Want []string
}

// AlertCase is an alert and the page it should be matched to.
type AlertCase struct {
	Alert runbooks.Alert
	// Want is the path of the page written for the alert.
	Want string
}

// A page is about one combination of service, component and condition.
type topic struct {
	service string
	team    string
	comp    *component
	cond    *condition
}

func (t topic) alertName() string {
	return camel(t.service) + t.comp.alert + t.cond.alert
}

// keywords are the words a responder could use for the topic.
func (t topic) keywords() []string {
	var out []string
	out = append(out, strings.Fields(strings.ReplaceAll(t.service, "-", " "))...)
	for _, f := range t.comp.forms {
		out = append(out, strings.Fields(f)...)
	}
	out = append(out, strings.Fields(strings.ToLower(t.comp.display))...)
	out = append(out, strings.Fields(t.cond.title)...)
	out = append(out, strings.Fields(t.cond.alt)...)
	out = append(out, t.cond.symptoms...)
	for i, w := range out {
		out[i] = strings.ToLower(w)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// plan is what is decided about a page before it is written.
type plan struct {
	topic
	style  Style
	path   string
	target int // size in bytes the page is filled up to
	seed   uint64
}

// Generate writes n pages under dir (created if missing; files of the same
// names are overwritten) and returns what it wrote. The same n and seed
// always write the same bytes.
func Generate(dir string, n int, seed uint64) (Corpus, error) {
	if n < 1 {
		return Corpus{}, fmt.Errorf("synth: want at least one page, got %d", n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed_b4ead_c4b))
	plans, err := planPages(rng, n, seed)
	if err != nil {
		return Corpus{}, err
	}
	made := map[string]bool{}
	for _, p := range plans {
		if d := path.Dir(p.path); !made[d] {
			if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
				return Corpus{}, fmt.Errorf("synth: %w", err)
			}
			made[d] = true
		}
	}
	// Each page has its own seed, so the pages can be written in
	// parallel and still come out the same.
	c := Corpus{Dir: dir, Pages: make([]Page, n)}
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				p := plans[i]
				data, title := render(p)
				errs[i] = os.WriteFile(filepath.Join(dir, filepath.FromSlash(p.path)), data, 0o644)
				c.Pages[i] = Page{Path: p.path, Title: title, Service: p.service, Team: p.team,
					Alert: p.alertName(), Style: p.style, Size: len(data)}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return Corpus{}, fmt.Errorf("synth: %w", err) // the first is enough
		}
	}
	for _, p := range c.Pages {
		c.Bytes += int64(p.Size)
	}
	c.Queries, c.Alerts = samples(rng, plans)
	return c, nil
}

// planPages spreads n pages over services so that no two pages share a
// topic, and chooses each page's style, path and size.
func planPages(rng *rand.Rand, n int, seed uint64) ([]plan, error) {
	var topics []struct{ comp, cond int }
	for ci, c := range components {
		for ki := range c.conds {
			topics = append(topics, struct{ comp, cond int }{ci, ki})
		}
	}
	maxServices := len(domains) * (1 + len(qualifiers))
	nServices := min(max((n+14)/15, 8), maxServices)
	if n > nServices*len(topics) {
		return nil, fmt.Errorf("synth: at most %d pages can be generated, not %d", nServices*len(topics), n)
	}
	nTeams := max(2, nServices/6)
	teams := make([]string, nTeams)
	for i := range teams {
		teams[i] = teamNames[i%len(teamNames)]
		if i >= len(teamNames) {
			teams[i] += fmt.Sprintf("-%d", i/len(teamNames)+1)
		}
	}
	type service struct {
		name, team string
		order      []int // the service's topics, in the order its pages take them
	}
	services := make([]service, nServices)
	for i := range services {
		name := domains[i%len(domains)]
		if q := i / len(domains); q > 0 {
			name += "-" + qualifiers[q-1]
		}
		services[i] = service{name: name, team: teams[rng.IntN(nTeams)], order: rng.Perm(len(topics))}
	}
	plans := make([]plan, n)
	for i := range plans {
		s := &services[i%nServices]
		tp := topics[s.order[i/nServices]]
		p := plan{topic: topic{service: s.name, team: s.team, comp: &components[tp.comp],
			cond: &components[tp.comp].conds[tp.cond]}, seed: seed ^ (uint64(i)+1)*0x9e3779b97f4a7c15}
		switch r := rng.Float64(); {
		case r < 0.60:
			p.style = StyleYAML
		case r < 0.85:
			p.style = StyleHugo
		default:
			p.style = StylePlain
		}
		dir := "teams/" + s.team + "/" + s.name + "/runbooks/"
		compDir := strings.ToLower(p.comp.alert)
		file := compDir + "-" + strings.ReplaceAll(p.cond.title, " ", "-")
		if rng.Float64() < 0.3 {
			dir += compDir + "/"
			file = strings.ReplaceAll(p.cond.title, " ", "-")
		}
		if p.style == StyleHugo {
			file = p.alertName()
		}
		p.path = dir + file + ".md"
		if rng.IntN(500) == 0 {
			p.target = 50<<10 + rng.IntN(150<<10)
		} else {
			// Log-uniform between 1 and 8 KB: most pages are short.
			p.target = int(1024 * math.Exp2(3*rng.Float64()))
		}
		plans[i] = p
	}
	return plans, nil
}

// samples picks about one page in ten (at least 50, at most 1,000) and
// makes a query for each, and another sample for alerts.
func samples(rng *rand.Rand, plans []plan) ([]Query, []AlertCase) {
	n := len(plans)
	k := min(max(n/10, min(n, 50)), 1000)
	byWord := map[string][]int{}
	for i, p := range plans {
		for _, w := range p.keywords() {
			byWord[w] = append(byWord[w], i)
		}
	}
	var queries []Query
	for _, i := range rng.Perm(n)[:k] {
		words := queryWords(rng, plans[i].topic)
		want := byWord[words[0]]
		for _, w := range words[1:] {
			want = intersect(want, byWord[w])
		}
		q := Query{Text: strings.Join(words, " ")}
		for _, j := range want {
			q.Want = append(q.Want, plans[j].path)
		}
		slices.Sort(q.Want)
		if rng.Float64() < 0.4 {
			noise := noiseWords[rng.IntN(len(noiseWords))]
			at := rng.IntN(len(words) + 1)
			words = slices.Insert(words, at, noise)
			q.Text = strings.Join(words, " ")
		}
		queries = append(queries, q)
	}
	var alerts []AlertCase
	for _, i := range rng.Perm(n)[:k] {
		alerts = append(alerts, AlertCase{Alert: alertFor(rng, plans[i]), Want: plans[i].path})
	}
	return queries, alerts
}

// queryWords returns the meaningful words of a query for a topic: the
// service's words, perhaps a word for the component, and one or two for
// the condition, three or four words in all.
func queryWords(rng *rand.Rand, t topic) []string {
	words := strings.Fields(strings.ReplaceAll(t.service, "-", " "))
	if rng.Float64() < 0.6 {
		words = append(words, t.comp.forms[rng.IntN(len(t.comp.forms))])
	}
	var condWords []string
	for _, w := range append(append(strings.Fields(t.cond.title), strings.Fields(t.cond.alt)...), t.cond.symptoms...) {
		if w = strings.ToLower(w); !stopWords[w] && !slices.Contains(condWords, w) {
			condWords = append(condWords, w)
		}
	}
	for _, j := range rng.Perm(len(condWords))[:min(len(condWords), 1+rng.IntN(2))] {
		if len(words) < 4 && !slices.Contains(words, condWords[j]) {
			words = append(words, condWords[j])
		}
	}
	return words
}

var stopWords = map[string]bool{"a": true, "an": true, "the": true, "is": true, "are": true, "to": true,
	"of": true, "in": true, "on": true, "from": true, "too": true, "not": true, "no": true, "its": true,
	"has": true, "with": true, "for": true, "at": true, "by": true, "keep": true,
	"cannot": true, "about": true, "still": true, "left": true, "without": true, "near": true}

// intersect returns the values in both ascending lists.
func intersect(a, b []int) []int {
	var out []int
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// alertFor builds the alert Alertmanager would send for a page's topic.
// Some carry a runbook_url to the page on a rendered site, as teams whose
// pages are not named after their alerts do.
func alertFor(rng *rand.Rand, p plan) runbooks.Alert {
	a := runbooks.Alert{
		Name: p.alertName(),
		Labels: map[string]string{
			"alertname": p.alertName(),
			"service":   p.service,
			"namespace": p.service,
			"severity":  p.cond.severity,
			"team":      p.team,
			"cluster":   []string{"prod-eu-1", "prod-us-1", "prod-ap-1"}[rng.IntN(3)],
		},
		Summary: fmt.Sprintf("%s %s: %s", p.service, strings.ToLower(p.comp.display), p.cond.alt),
		Status:  "firing",
		Source:  runbooks.SourceAlertmanager,
	}
	if rng.Float64() < 0.5 {
		a.Description = fmt.Sprintf("%s on %s has been %s for more than %s.", p.comp.display, p.service,
			p.cond.title, durationWords[rng.IntN(len(durationWords))])
	}
	urlChance := 0.15
	if p.style == StylePlain {
		urlChance = 0.5
	}
	if rng.Float64() < urlChance {
		a.RunbookURL = "https://runbooks.example.com/" + strings.ToLower(strings.TrimSuffix(p.path, ".md")) + "/"
	}
	a.Annotations = map[string]string{"summary": a.Summary}
	if a.Description != "" {
		a.Annotations["description"] = a.Description
	}
	if a.RunbookURL != "" {
		a.Annotations["runbook_url"] = a.RunbookURL
	}
	return a
}

// camel turns a service name into the start of an alert name:
// checkout-eu → CheckoutEu.
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
