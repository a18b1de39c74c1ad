package breadcrumbs

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenAlerts are the alerts every provider is filled for.
func goldenAlerts() map[string][]runbooks.Alert {
	pod := alert(map[string]string{"alertname": "PodCrashLooping", "cluster": "prod-eu1", "namespace": "checkout",
		"pod": "checkout-web-7d9f8b6c5-x2x9q", "container": "web", "service": "checkout-web", "severity": "critical"})
	pod.GeneratorURL = "http://prometheus-k8s-0:9090/graph?g0.expr=" +
		url.QueryEscape(`max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1`) + "&g0.tab=1"
	pod.Annotations = map[string]string{"summary": "Pod is crash looping", "dashboard": "https://grafana.example.com/d/k8s-pod?var-pod=x"}

	odd := alert(map[string]string{"alertname": "PaymentsAPIHigh5xxRate", "namespace": `pay "ments" & co #1`,
		"service": "payments api/v2", "pod": "p+1=ü", "severity": "page", "cluster": "prod-us1"})
	odd.Status, odd.EndsAt = "resolved", testNow.Add(-3*time.Minute)

	bare := runbooks.Alert{Name: "Watchdog", Labels: map[string]string{"alertname": "Watchdog"}, Status: "firing", StartsAt: testStart}
	return map[string][]runbooks.Alert{"pod": {pod}, "odd-values-resolved": {odd}, "no-labels": {bare}}
}

var goldenProviders = []struct {
	file string
	cfg  []ProviderConfig
}{
	{"grafana", []ProviderConfig{
		{Name: "pod-dashboard", Title: "Pod resources", Type: TypeGrafanaDashboard, BaseURL: "https://grafana.example.com", OrgID: 1,
			DashboardUID: "k8s-pod", Vars: map[string]string{"cluster": "{{cluster}}", "namespace": "{{namespace}}", "pod": "{{pod}}"}},
		{Name: "loki", Title: "Pod logs", Type: TypeLoki, BaseURL: "https://grafana.example.com", DatasourceUID: "P8E80F9AEF21F6940", OrgID: 1,
			Query: `{cluster="{{cluster}}", namespace="{{namespace}}", pod="{{pod}}"}`},
		{Name: "mimir", Title: "Restarts", Type: TypeGrafanaExplore, DatasourceType: "prometheus", DatasourceUID: "mimir", ExploreFormat: "left",
			BaseURL: "https://grafana.example.com/grafana", Query: `increase(kube_pod_container_status_restarts_total{namespace="{{namespace}}"}[15m])`},
		{Name: "tempo", Title: "Traces", Type: TypeTempo, BaseURL: "https://grafana.example.com", DatasourceUID: "tempo"},
	}},
	{"prometheus", []ProviderConfig{
		{Name: "prometheus", Title: "Alert expression", Type: TypePrometheus, BaseURL: "https://prometheus.example.com"},
	}},
	{"kibana-jaeger-datadog", []ProviderConfig{
		{Name: "kibana", Title: "Logs in Kibana", Type: TypeKibana, BaseURL: "https://kibana.example.com", Index: "90943e30-9a47-11e8-b64d-95841ca0b247",
			Query: `kubernetes.namespace:"{{namespace}}" and kubernetes.pod.name:{{pod}}`},
		{Name: "kibana-lucene", Title: "Errors (Lucene)", Type: TypeElasticsearch, BaseURL: "https://logs.example.com/kibana/", QueryLanguage: "lucene",
			Query: `service:"{{service}}" AND level:error`},
		{Name: "jaeger", Title: "Traces in Jaeger", Type: TypeJaeger, BaseURL: "https://jaeger.example.com"},
		{Name: "datadog", Title: "Logs in Datadog", Type: TypeDatadog, Site: "datadoghq.eu", Query: `service:{{service}} status:error`},
		{Name: "datadog-apm", Title: "Traces in Datadog", Type: TypeDatadog, Site: "us5.datadoghq.com", View: "traces", Query: `service:{{service}}`},
	}},
	{"url", []ProviderConfig{
		{Name: "status", Title: "Status page", Type: TypeURL, URL: "https://status.example.com/services/{{service}}?since={{from}}"},
		{Name: "runbook-dashboard", Title: "Dashboard from the alert", Type: TypeURL, URL: "{{annotations.dashboard}}"},
		{Name: "pagers", Title: "Critical only", Type: TypeURL, URL: "https://oncall.example.com/escalate?incident={{incident_id}}", Matchers: []string{"severity=critical"}},
	}},
}

// goldenRunbook has front-matter entries of every form and step links.
const goldenRunbook = `---
title: Pod crash looping
team: platform
dashboards:
  - name: Pod resources
    url: https://grafana.example.com/d/k8s-pod?var-cluster={{cluster}}&var-namespace={{namespace}}&var-pod={{pod}}&from={{from_ms}}&to={{to_ms}}
breadcrumbs:
  - name: Logs of the crashing container
    kind: logs
    datasource: loki
    query: '{cluster="{{cluster}}", namespace="{{namespace}}", pod="{{pod}}", container="{{container}}"}'
  - name: Memory against limit
    kind: metrics
    query: 'container_memory_working_set_bytes{namespace="{{namespace}}", pod="{{pod}}"}'
  - name: Status page
    kind: link
    url: https://status.example.com
---
# Pod crash looping

## Diagnosis

1. Look at [the team's board](https://boards.example.com/{{team}}/{{alertname}}?incident={{incident_id}}).
2. Read the events: <https://k8s.example.com/ns/{{namespace}}/events?since={{from_unix}}>

## Dashboards

* [Cluster overview](https://grafana.example.com/d/cluster?var-cluster={{cluster}}) and [the wiki](https://wiki.example.com/pods).
`

func TestGolden(t *testing.T) {
	alerts := goldenAlerts()
	names := make([]string, 0, len(alerts))
	for k := range alerts {
		names = append(names, k)
	}
	sort.Strings(names)
	rb := runbooks.Parse("platform/PodCrashLooping.md", []byte(goldenRunbook), runbooks.ParseOptions{})
	if rb.Problems() != 0 {
		t.Fatalf("the golden runbook has problems: %v", rb.Diagnostics)
	}
	for _, gp := range goldenProviders {
		t.Run(gp.file, func(t *testing.T) {
			s := mustSet(t, gp.cfg...)
			var b strings.Builder
			for _, withRunbook := range []bool{false, true} {
				for _, name := range names {
					in := Input{IncidentID: "INC-20260314-K7Q2M", Alerts: alerts[name], Now: testNow}
					title := name
					if withRunbook {
						in.Runbook, title = rb, name+" with the runbook"
					}
					fmt.Fprintf(&b, "## %s\n\n", title)
					for i, l := range s.Links(in) {
						fmt.Fprintf(&b, "%d. %s [%s] from %s", i, l.Name, l.Kind, l.Provider)
						if l.Step > 0 {
							fmt.Fprintf(&b, ", step %d", l.Step)
						}
						fmt.Fprintf(&b, "\n   %s\n", l.URL)
						describe(t, &b, l.URL)
					}
					b.WriteString("\n")
				}
			}
			path := filepath.Join("testdata", gp.file+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("links differ from %s (go test -update rewrites it):\n%s", path, got)
			}
		})
	}
}

// describe writes a URL's decoded parameters, one a line, so that a
// reviewer reads what the tool will see.
func describe(t *testing.T, b *strings.Builder, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	write := func(prefix, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range q[k] {
				fmt.Fprintf(b, "   %s%s = %s\n", prefix, k, v)
			}
		}
	}
	if p := u.Path; p != "" && p != u.EscapedPath() {
		fmt.Fprintf(b, "   path = %s\n", p)
	}
	write("", u.RawQuery)
	if _, fq, ok := strings.Cut(u.EscapedFragment(), "?"); ok {
		write("#", fq)
	}
}
