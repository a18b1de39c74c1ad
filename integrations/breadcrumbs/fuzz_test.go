package breadcrumbs

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// FuzzLinks fills templates (a runbook's url and query, a provider's url
// and query) with label values and a generator URL, all untrusted: it must
// never panic, and every link must be an absolute http(s) URL that parses
// and holds no "{{".
func FuzzLinks(f *testing.F) {
	f.Add("https://g.example.com/d/x?var-ns={{namespace}}&from={{from_ms}}", `{namespace="{{namespace}}"}`, hostileValue,
		"http://prom:9090/graph?g0.expr=up%7Bjob%3D%22a%22%7D&g0.tab=1")
	f.Add("https://{{cluster}}.example.com/{{pod}}#/x?q={{labels.x}}", "kubernetes.pod.name:{{pod}}", "a\x00b\n}}{{", "%zz")
	f.Add("{{annotations.url}}", "`{{pod}}`", "javascript:alert(1)", "")
	f.Add("https://x.example.com/?a={{pod}}&b={{nope}}", `'{{pod}}'`, "'\"\\", "https://p.example.com/graph?g0.expr=%ZZ")
	f.Add("https://x.example.com/%{{pod}}%", `{{pod}}"{{namespace}}`, "%41", "http://[::1]:9090/graph?g0.expr=up")
	f.Fuzz(func(t *testing.T, tmpl, query, value, generator string) {
		var ps []ProviderConfig
		for _, pc := range []ProviderConfig{
			{Name: "url", Type: TypeURL, URL: tmpl},
			{Name: "loki", Type: TypeLoki, BaseURL: "https://grafana.example.com", DatasourceUID: "l", Query: query},
			{Name: "kibana", Type: TypeKibana, BaseURL: "https://kibana.example.com", Query: query},
			{Name: "datadog", Type: TypeDatadog, Query: query},
			{Name: "dash", Type: TypeGrafanaDashboard, BaseURL: "https://grafana.example.com", DashboardUID: "d", Vars: map[string]string{"x": query}},
			{Name: "prometheus", Type: TypePrometheus},
			{Name: "jaeger", Type: TypeJaeger, BaseURL: "https://jaeger.example.com", Service: query},
		} {
			if _, err := New(Config{Providers: []ProviderConfig{pc}}); err == nil {
				ps = append(ps, pc)
			}
		}
		s, err := New(Config{Providers: ps})
		if err != nil {
			t.Fatalf("providers accepted one by one are refused together: %v", err)
		}
		labels := map[string]string{"namespace": value, "pod": value, "service": value, "cluster": value, "x": value, "container": value}
		a := alert(labels)
		a.Annotations = map[string]string{"url": value}
		a.GeneratorURL = generator
		rb := &runbooks.Runbook{
			Team:       value,
			Dashboards: []runbooks.Breadcrumb{{Name: "d", Kind: runbooks.KindDashboard, URL: tmpl}},
			Breadcrumbs: []runbooks.Breadcrumb{
				{Name: "l", Kind: runbooks.KindLogs, Datasource: "loki", Query: query},
				{Name: "k", Kind: runbooks.KindLogs, Datasource: "kibana", Query: query},
				{Name: "m", Kind: runbooks.KindMetrics, Query: query},
			},
			Steps: []runbooks.Step{{Number: 1, Body: "see " + tmpl}},
			Links: []runbooks.Link{{URL: tmpl, Kind: runbooks.LinkAbsolute}},
		}
		for _, l := range s.Links(Input{IncidentID: value, Alerts: []runbooks.Alert{a}, Runbook: rb, Now: testNow}) {
			u, err := url.Parse(l.URL)
			if err != nil {
				t.Fatalf("link %q from %s does not parse: %v", l.URL, l.Provider, err)
			}
			if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("link %q from %s is not an absolute http(s) URL", l.URL, l.Provider)
			}
			if strings.Contains(l.URL, "{{") {
				t.Fatalf("link %q from %s holds a {{", l.URL, l.Provider)
			}
			if _, ok := checkURL(l.URL); !ok {
				t.Fatalf("link %q from %s would be refused by the redirect", l.URL, l.Provider)
			}
		}
	})
}

// FuzzRedirectPath reads request paths, which anyone can send.
func FuzzRedirectPath(f *testing.F) {
	for _, p := range []string{"/b/INC-1/0", "/b/INC-1/-1", "/b//0", "/b/a%2Fb/12", "/x/b/INC/1", "/b/%zz/1", "/b/INC/01", "/b/INC/99999999999999999999"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		id, n, ok := parsePath(p)
		if ok && (id == "" || n < 0) {
			t.Fatalf("parsePath(%q) = %q, %d: want a non-empty ID and n >= 0", p, id, n)
		}
		if ok && RedirectURL("", id, n) != "/b/"+url.PathEscape(id)+"/"+strconv.Itoa(n) {
			t.Fatalf("parsePath(%q) = %q, %d does not round-trip", p, id, n)
		}
	})
}
