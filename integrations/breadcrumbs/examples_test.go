package breadcrumbs

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/examples"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// The bundled runbooks name the providers loki, prometheus and tempo: with
// those configured, every dashboard and breadcrumb of every page becomes a
// link for an alert that has the labels they use.
func TestEveryBreadcrumbOfTheBundledRunbooksIsFilled(t *testing.T) {
	s := mustSet(t,
		ProviderConfig{Name: "loki", Type: TypeLoki, BaseURL: "https://grafana.larkspur.example", DatasourceUID: "loki"},
		ProviderConfig{Name: "prometheus", Type: TypeGrafanaExplore, DatasourceType: "prometheus", BaseURL: "https://grafana.larkspur.example", DatasourceUID: "prom"},
		ProviderConfig{Name: "tempo", Type: TypeTempo, BaseURL: "https://grafana.larkspur.example", DatasourceUID: "tempo"},
	)
	labels := map[string]string{"cluster": "prod-eu1", "namespace": "shop", "pod": "web-0", "container": "web", "instance": "10.0.0.7:9100",
		"node": "ip-10-0-0-7", "consumergroup": "orders-worker", "topic": "orders", "service": "orders-worker"}
	fsys := examples.Runbooks()
	pages := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md") || p == "README.md" {
			return err
		}
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		rb := runbooks.Parse(p, raw, runbooks.ParseOptions{})
		want := len(rb.Dashboards) + len(rb.Breadcrumbs)
		if want == 0 {
			return nil
		}
		pages++
		got := 0
		for _, l := range s.Links(Input{IncidentID: "INC-1", Alerts: []runbooks.Alert{alert(labels)}, Runbook: rb, Now: testNow}) {
			if l.Provider == FromRunbook {
				got++
			}
		}
		if got != want {
			t.Errorf("%s: got %d links from the front matter, want %d", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages == 0 {
		t.Fatal("no bundled runbook has breadcrumbs")
	}
}
