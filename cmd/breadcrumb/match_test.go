package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// matchRunbooks writes a runbooks directory holding a Hugo-style page for
// KubePodCrashLooping (found through its site URL) and a team page bound
// in its front matter to CheckoutHighErrorRate.
func matchRunbooks(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "runbooks/kubernetes/KubePodCrashLooping.md", "---\ntitle: Kube Pod Crash Looping\n---\n# KubePodCrashLooping\n\n## Mitigation\n\n1. Check `kubectl describe pod`\n")
	writeFile(t, dir, "checkout/errors.md", "---\ntitle: Checkout errors\nservice: checkout\nalerts: [CheckoutHighErrorRate]\n---\n# Checkout errors\n\n## Mitigation\n\n1. Roll back\n")
	return dir
}

type matchLine struct {
	Alert       string
	Fingerprint string
	Candidates  []struct {
		Source, Path, ID, Title, Anchor, Reason, Rule string
		Score                                         float64
	}
}

func parseMatchLines(t *testing.T, out string) []matchLine {
	t.Helper()
	var got []matchLine
	for _, l := range lines(out) {
		var m matchLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, m)
	}
	return got
}

func TestMatchAnAlertmanagerBody(t *testing.T) {
	body := absPath(t, "testdata/match/alertmanager.json")
	env := inEmptyDir(t)
	dir := matchRunbooks(t)
	res := runCLI(t, env, "match", "--json", "--runbooks", dir, "--alerts", body)
	if res.code != exitOK {
		t.Fatalf("code %d, stderr %q", res.code, res.stderr)
	}
	got := parseMatchLines(t, res.stdout)
	if len(got) != 3 {
		t.Fatalf("%d lines, want one per alert (3)", len(got))
	}
	first := got[0]
	if first.Alert != "KubePodCrashLooping" || first.Fingerprint != "abc123" || len(first.Candidates) == 0 {
		t.Fatalf("first alert: %+v", first)
	}
	c := first.Candidates[0]
	if c.Path != "runbooks/kubernetes/KubePodCrashLooping.md" || c.Rule != "runbook_url" || c.Source == "" || c.ID != c.Source+":"+c.Path || c.Reason == "" {
		t.Errorf("first candidate %+v, want the page its runbook_url names", c)
	}
	if len(got[2].Candidates) != 0 {
		t.Errorf("an alert with no runbook got candidates: %+v", got[2])
	}
}

// pagerDutyAPI serves the incident's alerts as PagerDuty's REST API does.
func pagerDutyAPI(t *testing.T) *httptest.Server {
	t.Helper()
	alerts, err := os.ReadFile(filepath.Join("testdata", "match", "incident_alerts.Q2K4FZ5M0ZP1AB.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Token token=pd-test-token" {
			http.Error(w, `{"error":{"message":"Unauthorized","code":2006}}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/incidents/Q2K4FZ5M0ZP1AB/alerts" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(alerts)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMatchAPagerDutyBodyFetchesTheIncidentsAlerts(t *testing.T) {
	api := pagerDutyAPI(t)
	body := absPath(t, "testdata/match/v3_incident.triggered.json")
	env := inEmptyDir(t)
	env["PAGERDUTY_API_TOKEN"] = "pd-test-token"
	env["PAGERDUTY_API_URL"] = api.URL
	dir := matchRunbooks(t)
	res := runCLI(t, env, "match", "--json", "--runbooks", dir, "--alerts", body)
	if res.code != exitOK {
		t.Fatalf("code %d, stderr %q", res.code, res.stderr)
	}
	byAlert := map[string]matchLine{}
	for _, m := range parseMatchLines(t, res.stdout) {
		byAlert[m.Alert] = m
	}
	crash := byAlert["KubePodCrashLooping"]
	if len(crash.Candidates) == 0 || crash.Candidates[0].Rule != "runbook_url" {
		t.Errorf("KubePodCrashLooping: %+v, want the page found through the runbook_url in the alert's details", crash)
	}
	checkout := byAlert["CheckoutHighErrorRate"]
	if len(checkout.Candidates) == 0 || checkout.Candidates[0].Path != "checkout/errors.md" {
		t.Errorf("CheckoutHighErrorRate: %+v, want the page bound to it", checkout)
	}
	if strings.Contains(res.stderr+res.stdout, "pd-test-token") {
		t.Error("the token was printed")
	}
}

func TestMatchAPagerDutyBodyWithoutATokenUsesTheIncidentTitle(t *testing.T) {
	body := absPath(t, "testdata/match/v3_incident.triggered.json")
	env := inEmptyDir(t)
	res := runCLI(t, env, "match", "--json", "--runbooks", matchRunbooks(t), "--alerts", body)
	if res.code != exitOK {
		t.Fatalf("code %d, stderr %q", res.code, res.stderr)
	}
	got := parseMatchLines(t, res.stdout)
	if len(got) != 1 || got[0].Alert != "KubePodCrashLooping" || len(got[0].Candidates) == 0 || got[0].Candidates[0].Rule != "name" {
		t.Errorf("got %+v, want the alert name read from the incident title and its page found by name", got)
	}
}

func TestMatchRejectsBadBodies(t *testing.T) {
	env := inEmptyDir(t)
	for name, body := range map[string]string{
		"not JSON":            "hello",
		"neither format":      `{"foo": 1}`,
		"alertmanager v3":     `{"version":"3","alerts":[]}`,
		"pagerduty, no event": `{"event": null}`,
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"match", "--alerts", "-"}, fakeEnv(env), strings.NewReader(body), &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), "breadcrumb match: -: ") {
				t.Errorf("code %d, stderr %q; want exit 2 and a message", code, stderr.String())
			}
		})
	}
	if res := runCLI(t, env, "match"); res.code != exitUsage {
		t.Errorf("match without --alerts: code %d", res.code)
	}
}

// Findings: a body that was not JSON was explained by the decoder's own
// words ("invalid character 'o' in literal null"), and `match FILE`
// without --alerts printed only the usage.
func TestMatchSaysWhatItWantedAndTakesALoneFile(t *testing.T) {
	env := inEmptyDir(t)
	for body, want := range map[string]string{
		"not json":      `the body is not JSON: it goes wrong at byte 2, near "not json"; want an Alertmanager webhook body (version 4, with "alerts") or a PagerDuty v3 webhook body (with "event")`,
		`[{"a": 1}]`:    "the body is JSON but not an object; want an Alertmanager webhook body",
		"  \n":          "the body is empty; want an Alertmanager webhook body",
		`{"alerts": [}`: "goes wrong at byte 13, near ",
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"match", "-"}, fakeEnv(env), strings.NewReader(body), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), want) || strings.Contains(stderr.String(), "invalid character") {
			t.Errorf("body %q: code %d, stderr %q; want exit 2 saying %q", body, code, stderr.String(), want)
		}
	}
	file := filepath.Join(t.TempDir(), "alerts.json")
	if err := os.WriteFile(file, []byte(`{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"PaymentsAPIHigh5xxRate"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := runCLI(t, env, "match", file); res.code != exitOK || !strings.Contains(res.stdout, "PaymentsAPIHigh5xxRate") {
		t.Errorf("match FILE: code %d, stdout %q, stderr %q; want the alert's candidates", res.code, res.stdout, res.stderr)
	}
}
