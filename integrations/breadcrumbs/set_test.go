package breadcrumbs

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

var (
	testNow   = time.Date(2026, 3, 14, 3, 12, 0, 0, time.UTC)
	testStart = time.Date(2026, 3, 14, 2, 58, 30, 0, time.UTC)
)

// hostileValue holds everything that breaks a naive URL or query: spaces,
// both quotes, &, #, %, +, =, ?, a slash, a backslash, braces and
// non-ASCII text.
const hostileValue = `a b"c'd&e#f%g+h=i?j/k\l{m}n—ü日本`

func alert(labels map[string]string) runbooks.Alert {
	return runbooks.Alert{Name: labels["alertname"], Labels: labels, Status: "firing", StartsAt: testStart,
		Fingerprint: "3f2a9c1b", Source: runbooks.SourceAlertmanager}
}

func mustSet(t *testing.T, ps ...ProviderConfig) *Set {
	t.Helper()
	s, err := New(Config{Providers: ps})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func parse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("produced URL %q does not parse: %v", raw, err)
	}
	return u
}

func only(t *testing.T, links []incidents.Link) incidents.Link {
	t.Helper()
	if len(links) != 1 {
		t.Fatalf("got %d links, want 1: %+v", len(links), links)
	}
	return links[0]
}

func TestValuesAreEncodedForWhereTheyLand(t *testing.T) {
	labels := map[string]string{"alertname": "Oops", "namespace": hostileValue, "pod": "api-7d9f/0", "cluster": "prod-eu1"}
	in := Input{IncidentID: "INC-1", Alerts: []runbooks.Alert{alert(labels)}, Now: testNow}
	tests := []struct {
		name     string
		template string
		check    func(t *testing.T, u *url.URL)
	}{
		{"a value in the query decodes to itself", "https://grafana.example.com/d/x?var-ns={{namespace}}&from={{from_ms}}", func(t *testing.T, u *url.URL) {
			if got := u.Query().Get("var-ns"); got != hostileValue {
				t.Errorf("got var-ns %q, want %q", got, hostileValue)
			}
			if got, want := u.Query().Get("from"), "1773455310000"; got != want {
				t.Errorf("got from %q, want %q", got, want)
			}
			if len(u.Query()) != 2 {
				t.Errorf("got parameters %v, want var-ns and from only", u.Query())
			}
		}},
		{"a value in the path stays one segment", "https://logs.example.com/pods/{{pod}}/ns/{{namespace}}", func(t *testing.T, u *url.URL) {
			segs := strings.Split(u.EscapedPath(), "/")
			if len(segs) != 5 {
				t.Fatalf("got path %q with %d segments, want 5", u.EscapedPath(), len(segs))
			}
			for i, want := range map[int]string{2: "api-7d9f/0", 4: hostileValue} {
				got, err := url.PathUnescape(segs[i])
				if err != nil || got != want {
					t.Errorf("got segment %d %q (%v), want %q", i, got, err, want)
				}
			}
			if u.RawQuery != "" || u.Fragment != "" {
				t.Errorf("got query %q and fragment %q, want none", u.RawQuery, u.Fragment)
			}
		}},
		{"a value in the fragment decodes to itself", "https://kibana.example.com/app/x#/view?ns={{namespace}}", func(t *testing.T, u *url.URL) {
			if got, want := u.Fragment, "/view?ns="+hostileValue; got != want {
				t.Errorf("got fragment %q, want %q", got, want)
			}
		}},
		{"a host name value goes in the host", "https://{{cluster}}.grafana.example.com/d/x", func(t *testing.T, u *url.URL) {
			if got, want := u.Host, "prod-eu1.grafana.example.com"; got != want {
				t.Errorf("got host %q, want %q", got, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := &runbooks.Runbook{Dashboards: []runbooks.Breadcrumb{{Name: "d", Kind: runbooks.KindDashboard, URL: tt.template}}}
			in := in
			in.Runbook = rb
			// A value in the host must land under a host the
			// configuration allows.
			s, err := New(Config{AllowedHosts: []string{"*.grafana.example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			l := only(t, s.Links(in))
			tt.check(t, parse(t, l.URL))
		})
	}
}

func TestMissingValues(t *testing.T) {
	in := Input{IncidentID: "INC-1", Alerts: []runbooks.Alert{alert(map[string]string{"alertname": "Oops", "namespace": "shop"})}, Now: testNow}
	tests := []struct {
		name     string
		template string
		want     string // "" when the link is left out
	}{
		{"a parameter made of an absent value alone is dropped",
			"https://g.example.com/d/x?var-cluster={{cluster}}&var-ns={{namespace}}", "https://g.example.com/d/x?var-ns=shop"},
		{"the last parameter dropped takes its separator along",
			"https://g.example.com/d/x?var-ns={{namespace}}&var-pod={{pod}}#panel", "https://g.example.com/d/x?var-ns=shop#panel"},
		{"a query of absent values alone loses its question mark",
			"https://g.example.com/d/x?var-pod={{pod}}", "https://g.example.com/d/x"},
		{"an absent value among other text leaves the link out",
			"https://g.example.com/search?q=pod:{{pod}}%20AND%20ns:{{namespace}}", ""},
		{"an absent value in the path leaves the link out", "https://g.example.com/pods/{{pod}}", ""},
		{"an absent value in the host leaves the link out", "https://{{cluster}}.example.com/", ""},
		{"an unknown variable leaves the link out", "https://g.example.com/?x={{nope}}", ""},
		{"a template that is not http(s) is left out", "javascript:alert({{namespace}})", ""},
		{"a relative template is left out", "/d/x?var-ns={{namespace}}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := in
			in.Runbook = &runbooks.Runbook{Dashboards: []runbooks.Breadcrumb{{Name: "d", Kind: runbooks.KindDashboard, URL: tt.template}}}
			links := (&Set{}).Links(in)
			var got string
			if len(links) > 0 {
				got = links[0].URL
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestQueryValuesAreEscapedForTheirStringLiteral(t *testing.T) {
	labels := map[string]string{"alertname": "Oops", "namespace": hostileValue, "pod": "p`1", "container": "checkout-web"}
	in := Input{Alerts: []runbooks.Alert{alert(labels)}, Now: testNow}
	tests := []struct {
		name, query string
		lang        queryLang
		want        string
		ok          bool
	}{
		{"double quotes in PromQL", `up{namespace="{{namespace}}"}`, langPromQL,
			`up{namespace="a b\"c'd&e#f%g+h=i?j/k\\l{m}n—ü日本"}`, true},
		{"single quotes in PromQL", `up{namespace='{{namespace}}'}`, langPromQL,
			`up{namespace='a b"c\'d&e#f%g+h=i?j/k\\l{m}n—ü日本'}`, true},
		{"a backtick string cannot carry a backtick", "up{pod=`{{pod}}`}", langPromQL, "", false},
		{"an escaped quote in the template does not end the string", `{app="x\"{{pod}}"}`, langPromQL, `{app="x\"p` + "`" + `1"}`, true},
		{"a bare KQL term that is not a plain word is quoted", `kubernetes.namespace:{{namespace}}`, langLucene,
			`kubernetes.namespace:"a b\"c'd&e#f%g+h=i?j/k\\l{m}n—ü日本"`, true},
		{"a bare KQL term that is a plain word stays bare", `kubernetes.container.name:{{container}} or x`, langLucene, "kubernetes.container.name:checkout-web or x", true},
		{"a bare term with a backtick is quoted", `kubernetes.pod.name:{{pod}}`, langLucene, "kubernetes.pod.name:\"p`1\"", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fillQuery(tt.query, newVars(in), tt.lang)
			if ok != tt.ok || got != tt.want {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestGrafanaExploreStateCarriesTheQueryIntact(t *testing.T) {
	labels := map[string]string{"alertname": "Oops", "namespace": hostileValue}
	for _, format := range []string{"panes", "left"} {
		t.Run(format, func(t *testing.T) {
			s := mustSet(t, ProviderConfig{Name: "loki", Type: TypeLoki, BaseURL: "https://grafana.example.com/", DatasourceUID: "P8E80F9AEF21F6940",
				OrgID: 1, ExploreFormat: format, Query: `{namespace="{{namespace}}"} |= "error"`})
			l := only(t, s.Links(Input{Alerts: []runbooks.Alert{alert(labels)}, Now: testNow}))
			u := parse(t, l.URL)
			if u.Path != "/explore" || u.Query().Get("orgId") != "1" {
				t.Errorf("got path %q orgId %q, want /explore and 1", u.Path, u.Query().Get("orgId"))
			}
			var pane struct {
				Datasource string
				Queries    []struct {
					Expr       string
					Datasource struct{ Type, UID string }
				}
				Range struct{ From, To string }
			}
			state := u.Query().Get("left")
			if format == "panes" {
				var panes map[string]json.RawMessage
				if err := json.Unmarshal([]byte(u.Query().Get("panes")), &panes); err != nil || len(panes) != 1 {
					t.Fatalf("got panes %q (%v), want one pane", u.Query().Get("panes"), err)
				}
				for _, p := range panes {
					state = string(p)
				}
				if got := u.Query().Get("schemaVersion"); got != "1" {
					t.Errorf("got schemaVersion %q, want 1", got)
				}
			}
			if err := json.Unmarshal([]byte(state), &pane); err != nil {
				t.Fatalf("state %q is not JSON: %v", state, err)
			}
			want := `{namespace="a b\"c'd&e#f%g+h=i?j/k\\l{m}n—ü日本"} |= "error"`
			if len(pane.Queries) != 1 || pane.Queries[0].Expr != want {
				t.Fatalf("got queries %+v, want expr %q", pane.Queries, want)
			}
			if q := pane.Queries[0]; q.Datasource.Type != "loki" || q.Datasource.UID != "P8E80F9AEF21F6940" || pane.Datasource != "P8E80F9AEF21F6940" {
				t.Errorf("got data source %+v / %q, want loki P8E80F9AEF21F6940", q.Datasource, pane.Datasource)
			}
			if pane.Range.From != "1773455310000" || pane.Range.To != "now" {
				t.Errorf("got range %+v, want 1773455310000 to now", pane.Range)
			}
		})
	}
}

func TestPrometheusGraphsTheAlertsOwnExpression(t *testing.T) {
	a := alert(map[string]string{"alertname": "High5xx"})
	expr := `sum(rate(http_requests_total{code=~"5..", path="/a&b"}[5m])) > 0.02`
	a.GeneratorURL = "http://prometheus-k8s-0:9090/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=1"
	a.Status, a.EndsAt = "resolved", testNow.Add(-2*time.Minute)
	tests := []struct {
		name, base, wantPrefix string
	}{
		{"at the configured address", "https://prometheus.example.com/prom", "https://prometheus.example.com/prom/graph?"},
		{"at the generator's address when none is configured", "", "http://prometheus-k8s-0:9090/graph?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The generator's address is taken only where the
			// configuration allows it.
			s, err := New(Config{Providers: []ProviderConfig{{Name: "prom", Type: TypePrometheus, BaseURL: tt.base}}, AllowedHosts: []string{"prometheus-k8s-0"}})
			if err != nil {
				t.Fatal(err)
			}
			l := only(t, s.Links(Input{Alerts: []runbooks.Alert{a}, Now: testNow}))
			if !strings.HasPrefix(l.URL, tt.wantPrefix) {
				t.Errorf("got %q, want it to start with %q", l.URL, tt.wantPrefix)
			}
			q := parse(t, l.URL).Query()
			for k, want := range map[string]string{"g0.expr": expr, "g0.tab": "0", "g0.range_input": "42m", "g0.end_input": "2026-03-14 03:10:00"} {
				if got := q.Get(k); got != want {
					t.Errorf("got %s %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestKibanaStateIsRison(t *testing.T) {
	s := mustSet(t, ProviderConfig{Name: "kibana", Type: TypeKibana, BaseURL: "https://kibana.example.com", Index: "logs-*",
		Query: `kubernetes.namespace:"{{namespace}}" and message:{{namespace}}`})
	l := only(t, s.Links(Input{Alerts: []runbooks.Alert{alert(map[string]string{"namespace": "it's ok!"})}, Now: testNow}))
	u := parse(t, l.URL)
	if u.Path != "/app/discover" {
		t.Errorf("got path %q, want /app/discover", u.Path)
	}
	frag, err := url.ParseQuery(strings.TrimPrefix(u.Fragment, "/?"))
	if err != nil {
		t.Fatalf("fragment %q: %v", u.Fragment, err)
	}
	if got, want := frag.Get("_g"), "(time:(from:'2026-03-14T02:28:30.000Z',to:now))"; got != want {
		t.Errorf("got _g %q, want %q", got, want)
	}
	want := `(index:'logs-*',query:(language:kuery,query:'kubernetes.namespace:"it!'s ok!!" and message:"it!'s ok!!"'))`
	if got := frag.Get("_a"); got != want {
		t.Errorf("got _a %q, want %q", got, want)
	}
}

func TestRunbookQueriesFindTheirProvider(t *testing.T) {
	s := mustSet(t,
		ProviderConfig{Name: "loki-eu", Type: TypeLoki, BaseURL: "https://eu.grafana.example.com", DatasourceUID: "eu", Matchers: []string{"cluster=prod-eu1"}},
		ProviderConfig{Name: "loki-us", Type: TypeLoki, BaseURL: "https://us.grafana.example.com", DatasourceUID: "us", Matchers: []string{"cluster=prod-us1"}},
		ProviderConfig{Name: "mimir", Type: TypeGrafanaExplore, DatasourceType: "prometheus", BaseURL: "https://grafana.example.com", DatasourceUID: "mimir"},
		ProviderConfig{Name: "prom", Type: TypePrometheus, BaseURL: "https://prometheus.example.com", Default: true},
	)
	rb := &runbooks.Runbook{Breadcrumbs: []runbooks.Breadcrumb{
		{Name: "by type", Kind: runbooks.KindLogs, Datasource: "loki", Query: `{pod="{{pod}}"}`},
		{Name: "by name", Kind: runbooks.KindMetrics, Datasource: "Mimir", Query: `up`},
		{Name: "by kind default", Kind: runbooks.KindMetrics, Query: `rate(x[5m])`},
		{Name: "nobody", Kind: runbooks.KindTraces, Datasource: "zipkin", Query: `x`},
	}}
	links := s.Links(Input{Alerts: []runbooks.Alert{alert(map[string]string{"cluster": "prod-us1", "pod": "p1"})}, Runbook: rb, Now: testNow})
	want := []struct{ name, prefix string }{
		{"by type", "https://us.grafana.example.com/explore?"},
		{"by name", "https://grafana.example.com/explore?"},
		{"by kind default", "https://prometheus.example.com/graph?"},
	}
	if len(links) != len(want) {
		t.Fatalf("got %d links, want %d: %+v", len(links), len(want), links)
	}
	for i, w := range want {
		if links[i].Name != w.name || !strings.HasPrefix(links[i].URL, w.prefix) || links[i].Provider != FromRunbook {
			t.Errorf("got link %d %+v, want %q at %s from the runbook", i, links[i], w.name, w.prefix)
		}
	}
}

func TestStepLinksAndDuplicates(t *testing.T) {
	src := "---\ntitle: Oops\ndashboards:\n  - name: Pod\n    url: https://g.example.com/d/pod?var-pod={{pod}}\n---\n# Oops\n\n## Diagnosis\n\n" +
		"1. Open [the pod dashboard](https://g.example.com/d/pod?var-pod={{pod}}) and [the same](https://g.example.com/d/pod?var-pod={{pod}}).\n" +
		"2. Check <https://logs.example.com/q?ns={{namespace}}> and [docs](https://docs.example.com/x).\n"
	rb := runbooks.Parse("a/Oops.md", []byte(src), runbooks.ParseOptions{})
	links := (&Set{}).Links(Input{Alerts: []runbooks.Alert{alert(map[string]string{"pod": "p 1", "namespace": "shop"})}, Runbook: rb, Now: testNow})
	want := []incidents.Link{
		{Name: "Pod", Kind: "dashboard", URL: "https://g.example.com/d/pod?var-pod=p%201", Provider: FromRunbook},
		{Name: "the pod dashboard", Kind: "link", URL: "https://g.example.com/d/pod?var-pod=p%201", Provider: FromStep, Step: 1},
		{Name: "logs.example.com", Kind: "link", URL: "https://logs.example.com/q?ns=shop", Provider: FromStep, Step: 2},
	}
	if len(links) != len(want) {
		t.Fatalf("got %d links, want %d: %+v", len(links), len(want), links)
	}
	for i := range want {
		if links[i] != want[i] {
			t.Errorf("got link %d %+v, want %+v", i, links[i], want[i])
		}
	}
}

func TestProvidersApplyOnlyToMatchingAlerts(t *testing.T) {
	s := mustSet(t, ProviderConfig{Name: "status", Type: TypeURL, URL: "https://status.example.com/{{service}}", Matchers: []string{`severity=~"critical|page"`}})
	for _, tt := range []struct {
		severity string
		want     int
	}{{"critical", 1}, {"page", 1}, {"warning", 0}, {"", 0}} {
		got := len(s.Links(Input{Alerts: []runbooks.Alert{alert(map[string]string{"service": "shop", "severity": tt.severity})}, Now: testNow}))
		if got != tt.want {
			t.Errorf("severity %q: got %d links, want %d", tt.severity, got, tt.want)
		}
	}
}

func TestTheWindow(t *testing.T) {
	resolved := alert(map[string]string{})
	resolved.Status, resolved.EndsAt = "resolved", testNow.Add(-5*time.Minute)
	firingWithFutureEnd := alert(map[string]string{})
	firingWithFutureEnd.EndsAt = testNow.Add(4 * time.Minute) // Alertmanager's timeout, not an end
	tests := []struct {
		name     string
		alerts   []runbooks.Alert
		from, to time.Time
		open     bool
	}{
		{"a firing alert: 30 minutes before its start to now", []runbooks.Alert{alert(map[string]string{})}, testStart.Add(-Lookback), testNow, true},
		{"a firing alert's future end is not its end", []runbooks.Alert{firingWithFutureEnd}, testStart.Add(-Lookback), testNow, true},
		{"a resolved alert: to its end", []runbooks.Alert{resolved}, testStart.Add(-Lookback), testNow.Add(-5 * time.Minute), false},
		{"no alert: the last 30 minutes", nil, testNow.Add(-Lookback), testNow, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newVars(Input{Alerts: tt.alerts, Now: testNow}).win
			if !w.from.Equal(tt.from) || !w.to.Equal(tt.to) || w.open != tt.open {
				t.Errorf("got %v to %v (open %v), want %v to %v (open %v)", w.from, w.to, w.open, tt.from, tt.to, tt.open)
			}
		})
	}
}

func TestNewRejectsBadProviders(t *testing.T) {
	tests := []struct {
		name string
		p    ProviderConfig
		want string
	}{
		{"an unknown variable in a query", ProviderConfig{Name: "l", Type: TypeLoki, BaseURL: "https://g.example.com", DatasourceUID: "x", Query: `{ns="{{namespce}}"}`}, "unknown variable {{namespce}}"},
		{"an unknown variable in a url", ProviderConfig{Name: "u", Type: TypeURL, URL: "https://x.example.com/{{.Labels.pod}}"}, "did you mean {{labels.pod}}?"},
		{"an unknown variable in a dashboard variable", ProviderConfig{Name: "d", Type: TypeGrafanaDashboard, BaseURL: "https://g.example.com", DashboardUID: "x", Vars: map[string]string{"ns": "{{ns}}"}}, "vars.ns"},
		{"an unknown type", ProviderConfig{Name: "x", Type: "splunk"}, `unknown type "splunk"`},
		{"no base URL", ProviderConfig{Name: "x", Type: TypeKibana}, "base_url is needed"},
		{"a base URL that is not http", ProviderConfig{Name: "x", Type: TypeKibana, BaseURL: "ftp://k.example.com"}, "not an http or https address"},
		{"a bad matcher", ProviderConfig{Name: "x", Type: TypeURL, URL: "https://x.example.com", Matchers: []string{"9x=1"}}, "not a valid label name"},
		{"a dashboard with no UID", ProviderConfig{Name: "x", Type: TypeGrafanaDashboard, BaseURL: "https://g.example.com"}, "dashboard_uid is needed"},
		{"a query where none is taken", ProviderConfig{Name: "x", Type: TypeJaeger, BaseURL: "https://j.example.com", Query: "x"}, "takes no query"},
		{"no name", ProviderConfig{Type: TypeURL, URL: "https://x.example.com"}, "provider #1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Providers: []ProviderConfig{tt.p}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	_, err := New(Config{Providers: []ProviderConfig{{Name: "a", Type: TypeURL, URL: "https://x.example.com"}, {Name: "A", Type: TypeURL, URL: "https://y.example.com"}}})
	if err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("two providers named a and A: got %v, want an error saying the name is used twice", err)
	}
}

func TestRison(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"abc", "abc"},
		{"", "''"},
		{"1abc", "'1abc'"},
		{"-x", "'-x'"},
		{"a b", "'a b'"},
		{"it's!", "'it!'s!!'"},
		{"日本", "'日本'"},
		{true, "!t"},
		{[]any{"a", 1, false}, "!(a,1,!f)"},
		{risonObj{{"a", risonObj{{"b c", "x"}}}}, "(a:('b c':x))"},
	}
	for _, tt := range tests {
		if got := rison(tt.in); got != tt.want {
			t.Errorf("rison(%#v): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
