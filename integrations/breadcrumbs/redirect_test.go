package breadcrumbs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/report"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

func openBolt(t *testing.T) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// declareWithLinks opens an incident whose links a Set filled, as the
// enricher does when alerts open one.
func declareWithLinks(t *testing.T, svc *incidents.Service) *incidents.Incident {
	t.Helper()
	s := mustSet(t, ProviderConfig{Name: "loki", Type: TypeLoki, BaseURL: "https://grafana.example.com", DatasourceUID: "loki",
		Query: `{namespace="{{namespace}}"}`})
	rb := &runbooks.Runbook{Dashboards: []runbooks.Breadcrumb{{Name: "Pods", Kind: runbooks.KindDashboard,
		URL: "https://grafana.example.com/d/pods?var-ns={{namespace}}&from={{from_ms}}&to={{to_ms}}"}}}
	links := s.Links(Input{IncidentID: "INC-7", Alerts: []runbooks.Alert{alert(map[string]string{"namespace": "shop & co"})}, Runbook: rb, Now: testNow})
	if len(links) != 2 {
		t.Fatalf("got %d links, want 2", len(links))
	}
	inc, _, err := svc.Declare(context.Background(), incidents.Declaration{ID: "INC-7", Title: "Shop down", Severity: 2, Links: links},
		incidents.Action{Actor: "alertmanager"})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// noFollow is a client that shows redirects instead of following them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func opened(t *testing.T, svc *incidents.Service, id string) []incidents.Event {
	t.Helper()
	events, err := svc.Timeline(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []incidents.Event
	for _, e := range events {
		if e.Type == incidents.EventBreadcrumbOpened {
			out = append(out, e)
		}
	}
	return out
}

func TestRedirectRecordsTheClickAndSendsToTheStoredLink(t *testing.T) {
	svc := incidents.NewService(openBolt(t), incidents.Options{})
	inc := declareWithLinks(t, svc)
	srv := httptest.NewServer(NewRedirect(svc, nil))
	defer srv.Close()

	resp, _ := get(t, RedirectURLFor(srv.URL, inc.ID, 1, "U012AB3CD"))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("got status %d, want 302", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Location"), inc.Links[1].URL; got != want {
		t.Errorf("got Location %q, want the stored link %q", got, want)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("got Cache-Control %q, want no-store", got)
	}
	events := opened(t, svc, inc.ID)
	if len(events) != 1 {
		t.Fatalf("got %d breadcrumb events, want 1", len(events))
	}
	e := events[0]
	if e.Actor != "U012AB3CD" || e.Data["name"] != inc.Links[1].Name || e.Data["url"] != inc.Links[1].URL {
		t.Errorf("got event by %q with %v, want by U012AB3CD naming %q and its URL", e.Actor, e.Data, inc.Links[1].Name)
	}

	// The report lists the breadcrumb that was followed.
	all, err := svc.Timeline(context.Background(), inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := svc.Get(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	report := report.New(stored, all)
	found := false
	for _, re := range report.Timeline {
		if re.Link != nil && re.Link.Text == inc.Links[1].Name {
			found = true
		}
	}
	if !found {
		t.Errorf("the report's timeline does not show the breadcrumb %q", inc.Links[1].Name)
	}
}

func TestADoubleClickIsOneEvent(t *testing.T) {
	svc := incidents.NewService(openBolt(t), incidents.Options{})
	inc := declareWithLinks(t, svc)
	srv := httptest.NewServer(NewRedirect(svc, nil))
	defer srv.Close()

	for range 2 {
		if resp, _ := get(t, RedirectURLFor(srv.URL, inc.ID, 0, "U1")); resp.StatusCode != http.StatusFound {
			t.Fatalf("got status %d, want 302", resp.StatusCode)
		}
	}
	if resp, _ := get(t, RedirectURL(srv.URL, inc.ID, 0)); resp.StatusCode != http.StatusFound {
		t.Fatalf("got status %d, want 302", resp.StatusCode)
	}
	events := opened(t, svc, inc.ID)
	if len(events) != 2 || events[0].Actor != "U1" || events[1].Actor != "someone" {
		t.Fatalf("got %d events %+v, want one by U1 and one by someone", len(events), events)
	}
}

func TestClicksAfterTheWindowCountAgain(t *testing.T) {
	svc := incidents.NewService(openBolt(t), incidents.Options{})
	inc := declareWithLinks(t, svc)
	srv := httptest.NewServer(newRedirect(svc, nil, time.Nanosecond))
	defer srv.Close()
	for range 2 {
		get(t, RedirectURLFor(srv.URL, inc.ID, 0, "U1"))
	}
	if got := len(opened(t, svc, inc.ID)); got != 2 {
		t.Errorf("got %d events, want 2", got)
	}
}

func TestRedirectRefusesWhatIsNotAStoredLink(t *testing.T) {
	svc := incidents.NewService(openBolt(t), incidents.Options{})
	inc := declareWithLinks(t, svc)
	srv := httptest.NewServer(NewRedirect(svc, nil))
	defer srv.Close()
	tests := []struct {
		name, path string
	}{
		{"an unknown incident", "/b/INC-404/0"},
		{"an index past the links", "/b/" + inc.ID + "/2"},
		{"a negative index", "/b/" + inc.ID + "/-1"},
		{"an index that is not a number", "/b/" + inc.ID + "/https:%2F%2Fevil.example.com"},
		{"a URL in place of the index", "/b/" + inc.ID + "/0/https://evil.example.com"},
		{"a path outside /b/", "/c/" + inc.ID + "/0"},
		{"an incident ID with markup", "/b/%3Cscript%3Ealert(1)%3C%2Fscript%3E/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv.URL+tt.path)
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("got status %d, want 404", resp.StatusCode)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("got Location %q, want none", loc)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || strings.Contains(body, "<script>") {
				t.Errorf("got %s page %q, want escaped HTML", resp.Header.Get("Content-Type"), body)
			}
		})
	}
	if got := len(opened(t, svc, inc.ID)); got != 0 {
		t.Errorf("got %d events, want none", got)
	}
}

func TestLinkPreviewsAreNotClicks(t *testing.T) {
	svc := incidents.NewService(openBolt(t), incidents.Options{})
	inc := declareWithLinks(t, svc)
	srv := httptest.NewServer(NewRedirect(svc, nil))
	defer srv.Close()
	resp, _ := get(t, RedirectURL(srv.URL, inc.ID, 0), "User-Agent", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("got status %d, want 302", resp.StatusCode)
	}
	if got := len(opened(t, svc, inc.ID)); got != 0 {
		t.Errorf("got %d events, want none", got)
	}
}

func TestActorIsAPlainName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"U012AB3CD", "U012AB3CD"},
		{"alice@example.com", "alice@example.com"},
		{"", "someone"},
		{"<b>x</b>", "someone"},
		{"a b", "someone"},
		{strings.Repeat("u", 65), "someone"},
	} {
		if got := actor(tt.in); got != tt.want {
			t.Errorf("actor(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// failingAppends is a store whose timeline refuses appends.
type failingAppends struct{ *boltstore.Store }

func (failingAppends) Append(context.Context, string, []incidents.Event) ([]incidents.Event, error) {
	return nil, errors.New("disk full")
}

func TestAClickThatCannotBeRecordedStillOpensTheLink(t *testing.T) {
	st := openBolt(t)
	inc := declareWithLinks(t, incidents.NewService(st, incidents.Options{}))
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	srv := httptest.NewServer(NewRedirect(incidents.NewService(failingAppends{st}, incidents.Options{}), logger))
	defer srv.Close()
	resp, _ := get(t, RedirectURL(srv.URL, inc.ID, 0))
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != inc.Links[0].URL {
		t.Fatalf("got status %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), inc.Links[0].URL)
	}
	if !strings.Contains(logs.String(), "disk full") || !strings.Contains(logs.String(), "incident_id="+inc.ID) {
		t.Errorf("got log %q, want the error with the incident", logs.String())
	}
}

func TestRedirectURL(t *testing.T) {
	for _, tt := range []struct {
		base, id string
		n        int
		want     string
	}{
		{"https://bc.example.com", "INC-20260314-ABCDE", 3, "https://bc.example.com/b/INC-20260314-ABCDE/3"},
		{"https://bc.example.com/oncall/", "INC-1", 0, "https://bc.example.com/oncall/b/INC-1/0"},
		{"https://bc.example.com", "a/b c", 1, "https://bc.example.com/b/a%2Fb%20c/1"},
	} {
		if got := RedirectURL(tt.base, tt.id, tt.n); got != tt.want {
			t.Errorf("RedirectURL(%q, %q, %d): got %q, want %q", tt.base, tt.id, tt.n, got, tt.want)
		}
	}
	if got, want := RedirectURLFor("https://bc.example.com", "INC-1", 2, "U 1&x"), "https://bc.example.com/b/INC-1/2?u=U+1%26x"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRedirectMountsEitherWay(t *testing.T) {
	svc := incidents.NewService(openBolt(t), incidents.Options{})
	inc := declareWithLinks(t, svc)
	for _, pattern := range []string{RedirectPath, "/b/"} {
		t.Run(pattern, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle(pattern, NewRedirect(svc, nil))
			srv := httptest.NewServer(mux)
			defer srv.Close()
			resp, _ := get(t, RedirectURL(srv.URL, inc.ID, 1))
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != inc.Links[1].URL {
				t.Errorf("got status %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), inc.Links[1].URL)
			}
		})
	}
}
