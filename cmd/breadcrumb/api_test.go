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
