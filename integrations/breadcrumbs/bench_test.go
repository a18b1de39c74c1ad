package breadcrumbs

import (
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// BenchmarkLinks fills the golden runbook (a dashboard, three breadcrumbs,
// two step links) and four Grafana providers for one alert: what opening
// an incident costs.
func BenchmarkLinks(b *testing.B) {
	s, err := New(Config{Providers: goldenProviders[0].cfg})
	if err != nil {
		b.Fatal(err)
	}
	rb := runbooks.Parse("platform/PodCrashLooping.md", []byte(goldenRunbook), runbooks.ParseOptions{})
	in := Input{IncidentID: "INC-20260314-K7Q2M", Alerts: goldenAlerts()["pod"], Runbook: rb, Now: testNow}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = len(s.Links(in))
	}
	b.ReportMetric(float64(n), "links/op")
}

// BenchmarkLinksBaselineReplace is the baseline measured in the same run:
// the runbook's templates filled by plain text substitution, with no
// encoding, no providers and no checks (links that break on odd values).
func BenchmarkLinksBaselineReplace(b *testing.B) {
	rb := runbooks.Parse("platform/PodCrashLooping.md", []byte(goldenRunbook), runbooks.ParseOptions{})
	v := newVars(Input{IncidentID: "INC-20260314-K7Q2M", Alerts: goldenAlerts()["pod"], Runbook: rb, Now: testNow})
	var pairs []string
	for k, val := range v.values {
		pairs = append(pairs, "{{"+k+"}}", val)
	}
	var templates []string
	for _, bc := range append(append([]runbooks.Breadcrumb{}, rb.Dashboards...), rb.Breadcrumbs...) {
		templates = append(templates, bc.URL+bc.Query)
	}
	for _, l := range rb.Links {
		templates = append(templates, l.URL)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := strings.NewReplacer(pairs...)
		for _, t := range templates {
			_ = r.Replace(t)
		}
	}
}
