package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
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
