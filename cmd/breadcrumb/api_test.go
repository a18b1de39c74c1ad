package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

func TestAPISearchAndMatch(t *testing.T) {
	body, err := os.ReadFile(absPath(t, "testdata/match/alertmanager.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	s := startServe(t, serveEnv(t))
	defer s.stop()

	var found struct {
		Query string
		Hits  []struct{ ID, Title string }
	}
	if err := json.Unmarshal([]byte(s.get("/api/search?q=pods+keep+restarting&limit=2", "application/json")), &found); err != nil {
		t.Fatal(err)
	}
	if len(found.Hits) == 0 || len(found.Hits) > 2 || found.Hits[0].ID != "examples:platform/PodCrashLooping.md" {
		t.Errorf("/api/search: %+v, want the crash-looping page first, at most 2 hits", found)
	}

	resp, err := s.client.Post(s.url+"/api/match", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var matched struct {
		Alerts []struct {
			Alert      string
			Candidates []struct{ ID, Rule string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&matched); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/api/match: %s, %v", resp.Status, err)
	}
	if len(matched.Alerts) != 3 || matched.Alerts[1].Alert != "PaymentsAPIHigh5xxRate" ||
		len(matched.Alerts[1].Candidates) == 0 || matched.Alerts[1].Candidates[0].ID != "examples:payments/PaymentsAPIHigh5xxRate.md" {
		t.Errorf("/api/match: %+v", matched)
	}

	for _, bad := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/api/search", "", http.StatusBadRequest},
		{"GET", "/api/search?q=x&limit=abc", "", http.StatusBadRequest},
		{"POST", "/api/match", "not json", http.StatusBadRequest},
		{"POST", "/api/match", `{"version":"3","alerts":[]}`, http.StatusBadRequest},
		{"GET", "/api/match", "", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(bad.method, s.url+bad.path, strings.NewReader(bad.body))
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != bad.status {
			t.Errorf("%s %s: %s (%s), want %d", bad.method, bad.path, resp.Status, msg, bad.status)
		}
	}
}

func TestAPIIncidents(t *testing.T) {
	t.Chdir(t.TempDir())
	env := serveEnv(t)
	resolved, open := seedIncidents(t, env["BREADCRUMB_DATA_DIR"])
	s := startServe(t, env)
	defer s.stop()

	var list struct{ Incidents []struct{ ID, Status string } }
	if err := json.Unmarshal([]byte(s.get("/api/incidents", "application/json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Incidents) != 2 {
		t.Errorf("/api/incidents: %+v, want both incidents", list)
	}
	if err := json.Unmarshal([]byte(s.get("/api/incidents?status=open", "application/json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Incidents) != 1 || list.Incidents[0].ID != open {
		t.Errorf("/api/incidents?status=open: %+v", list)
	}
	var detail struct {
		Incident struct{ ID string }
		Timeline []struct {
			Seq  int64
			Type string
		}
	}
	if err := json.Unmarshal([]byte(s.get("/api/incidents/"+resolved, "application/json")), &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Incident.ID != resolved || len(detail.Timeline) < 5 || detail.Timeline[0].Seq != 1 {
		t.Errorf("/api/incidents/%s: %+v", resolved, detail)
	}
	var page struct {
		Timeline []struct{ Seq int64 }
		Next     int64
	}
	if err := json.Unmarshal([]byte(s.get("/api/incidents/"+resolved+"?after=1&limit=2", "application/json")), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Timeline) != 2 || page.Timeline[0].Seq != 2 || page.Next != 3 {
		t.Errorf("a page of the timeline: %+v, want seqs 2 and 3 and next 3", page)
	}
	if md := s.get("/api/incidents/"+resolved+"/report", "text/markdown"); !strings.Contains(md, "Payments 5xx") {
		t.Errorf("markdown report: %q", md)
	}
	if html := s.get("/api/incidents/"+resolved+"/report?format=html", "text/html"); !strings.Contains(html, "<svg") {
		t.Error("the HTML report has no chart")
	}
	for path, status := range map[string]int{
		"/api/incidents/NOPE":                               http.StatusNotFound,
		"/api/incidents/" + resolved + "/report?format=pdf": http.StatusBadRequest,
		"/api/incidents?status=closed":                      http.StatusBadRequest,
		"/api/incidents/" + resolved + "?after=x":           http.StatusBadRequest,
	} {
		resp, err := s.client.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Errorf("GET %s: %s, want %d", path, resp.Status, status)
		}
	}
}

func TestAPIRulesListsTheRulesWithTheirRunbooks(t *testing.T) {
	t.Chdir(t.TempDir())
	s := startServe(t, serveEnv(t))
	defer s.stop()
	var got struct {
		Rules []struct {
			Alert   string
			Source  string
			Runbook *struct{ ID, Rule string }
		}
		Sources []struct {
			Name         string
			Files, Rules int
		}
	}
	if err := json.Unmarshal([]byte(s.get("/api/rules", "application/json")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Rules) != 19 || len(got.Sources) != 1 || got.Sources[0].Name != "example-rules" || got.Sources[0].Rules != 19 {
		t.Fatalf("got %d rules from %+v, want the 19 example rules", len(got.Rules), got.Sources)
	}
	for _, r := range got.Rules {
		if r.Runbook == nil || !strings.HasPrefix(r.Runbook.ID, "examples:") {
			t.Errorf("example rule %s has runbook %+v", r.Alert, r.Runbook)
		}
	}
	if body := s.get("/api/rules?missing=true", "application/json"); !strings.Contains(body, `"rules":[]`) {
		t.Errorf("?missing=true: %s, want no rule", body)
	}
}

func TestAPIIncidentListsAreWhatTheStoreListsPageAfterPage(t *testing.T) {
	t.Chdir(t.TempDir())
	env := serveEnv(t)
	st := openDataStore(t, env["BREADCRUMB_DATA_DIR"])
	// 450 incidents, more than two of the pages the list is read in, a
	// third of them resolved, some created at the same instant.
	start := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	svc := incidents.NewService(st, incidents.Options{})
	var wg sync.WaitGroup
	for i := range 450 {
		wg.Go(func() {
			inc, _, err := svc.Declare(t.Context(), incidents.Declaration{Title: fmt.Sprintf("Incident <%d> & co", i), Service: fmt.Sprintf("svc-%d", i%3)},
				incidents.Action{At: start.Add(time.Duration(i/2) * time.Minute)})
			if err == nil && i%3 == 0 {
				_, err = svc.Transition(t.Context(), inc.ID, incidents.StatusResolved, incidents.Action{})
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tests := []struct {
		query string
		f     incidents.Filter
	}{
		{"", incidents.Filter{Limit: 100}},
		{"?limit=1000", incidents.Filter{Limit: 1000}},
		{"?limit=420", incidents.Filter{Limit: 420}},
		{"?status=open&limit=1000", incidents.Filter{Open: true, Limit: 1000}},
		{"?status=resolved&service=svc-0&limit=1000", incidents.Filter{Statuses: []incidents.Status{incidents.StatusResolved}, Service: "svc-0", Limit: 1000}},
		{"?service=none", incidents.Filter{Service: "none", Limit: 100}},
	}
	want := map[string]string{}
	for _, tt := range tests {
		f := tt.f
		f.Limit++ // one more tells whether there is a next page
		list, err := svc.List(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		answer := map[string]any{"incidents": list}
		switch {
		case len(list) > tt.f.Limit:
			answer["incidents"] = list[:tt.f.Limit]
			answer["next"] = encodeCursor(incidents.PositionOf(list[tt.f.Limit-1]))
		case list == nil:
			answer["incidents"] = []*incidents.Incident{}
		}
		var buf strings.Builder
		if err := json.NewEncoder(&buf).Encode(answer); err != nil {
			t.Fatal(err)
		}
		want[tt.query] = buf.String()
	}
	all, err := svc.List(t.Context(), incidents.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	open, err := svc.List(t.Context(), incidents.Filter{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, env)
	defer s.stop()
	for _, tt := range tests {
		if got := s.get("/api/incidents"+tt.query, "application/json"); got != want[tt.query] {
			t.Errorf("/api/incidents%s: got %d bytes, want the %d bytes of the store's list (%.120s...)", tt.query, len(got), len(want[tt.query]), got)
		}
	}
	// Following next, page after page, reads every incident once, in
	// order, and the last page has no next.
	for _, pages := range []struct {
		query string
		want  []*incidents.Incident
	}{
		{"?limit=100", all},
		{"?limit=7&status=open", open},
		{"?limit=450", all},
	} {
		var got []string
		query := pages.query
		for n := 0; ; n++ {
			var page struct {
				Incidents []struct{ ID string }
				Next      string
			}
			if err := json.Unmarshal([]byte(s.get("/api/incidents"+query, "application/json")), &page); err != nil {
				t.Fatal(err)
			}
			for _, inc := range page.Incidents {
				got = append(got, inc.ID)
			}
			if page.Next == "" || n > len(pages.want) {
				break
			}
			query = pages.query + "&cursor=" + page.Next
		}
		if len(got) != len(pages.want) {
			t.Fatalf("/api/incidents%s, page after page: got %d incidents, want %d", pages.query, len(got), len(pages.want))
		}
		for i, inc := range pages.want {
			if got[i] != inc.ID {
				t.Fatalf("/api/incidents%s, page after page: incident %d is %s, want %s", pages.query, i, got[i], inc.ID)
			}
		}
	}
	for _, bad := range []string{"nonsense", encodeCursor(incidents.Position{})[:5], "AAAA"} {
		resp, err := s.client.Get(s.url + "/api/incidents?cursor=" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/api/incidents?cursor=%s: %s, want 400", bad, resp.Status)
		}
	}
}
