package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
)

// post sends body to path with headers and returns the status.
func (s *service) post(path string, body []byte, headers map[string]string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json") // what the webhooks' senders send
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type apiIncidentList struct {
	Incidents []struct {
		ID      string `json:"id"`
		Title   string `json:"title"`
		Status  string `json:"status"`
		Source  string `json:"source"`
		Runbook *struct {
			ID     string `json:"id"`
			Reason string `json:"reason"`
		} `json:"runbook"`
		Steps []json.RawMessage `json:"steps"`
		Links []struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		} `json:"links"`
		Alerts []json.RawMessage `json:"alerts"`
	} `json:"incidents"`
}

// waitIncidents polls /api/incidents until n incidents are there.
func (s *service) waitIncidents(n int) apiIncidentList {
	s.t.Helper()
	stop := time.Now().Add(deadline)
	var got apiIncidentList
	for time.Now().Before(stop) {
		got = apiIncidentList{}
		if err := json.Unmarshal([]byte(s.get("/api/incidents", "application/json")), &got); err != nil {
			s.t.Fatal(err)
		}
		if len(got.Incidents) >= n {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("got %d incidents within %v, want %d; stderr:\n%s", len(got.Incidents), deadline, n, s.stderr)
	return got
}

func TestAnAlertmanagerWebhookOpensAnIncidentWithItsRunbookAndBreadcrumbs(t *testing.T) {
	vars := serveEnv(t)
	vars["ALERTMANAGER_WEBHOOK_TOKEN"] = "am-token"
	s := startServe(t, vars)
	body := app.DemoAlert(time.Now())

	if code, _ := s.post("/webhooks/alertmanager", body, map[string]string{"Authorization": "Bearer wrong"}); code != http.StatusUnauthorized {
		t.Errorf("a wrong token: got %d, want 401", code)
	}
	if code, msg := s.post("/webhooks/alertmanager", []byte(`{"version":"4"`), map[string]string{"Authorization": "Bearer am-token"}); code != http.StatusBadRequest {
		t.Errorf("a broken body: got %d %s, want 400", code, msg)
	}
	for i := 0; i < 2; i++ {
		if code, msg := s.post("/webhooks/alertmanager", body, map[string]string{"Authorization": "Bearer am-token"}); code/100 != 2 {
			t.Fatalf("delivery %d: got %d %s, want 2xx", i, code, msg)
		}
	}
	list := s.waitIncidents(1)
	time.Sleep(100 * time.Millisecond) // give a wrongly doubled delivery the time to show
	list = s.waitIncidents(1)
	if len(list.Incidents) != 1 {
		t.Fatalf("got %d incidents, want 1 for a delivery sent twice", len(list.Incidents))
	}
	inc := list.Incidents[0]
	if inc.Source != "alertmanager" || inc.Runbook == nil || inc.Runbook.ID != "examples:payments/PaymentsAPIHigh5xxRate.md" {
		t.Fatalf("got %+v, want the payments runbook attached", inc)
	}
	if len(inc.Steps) == 0 || len(inc.Alerts) != 1 || len(inc.Links) == 0 {
		t.Fatalf("got %d steps, %d alerts, %d links; want the runbook's steps, 1 alert and its breadcrumbs", len(inc.Steps), len(inc.Alerts), len(inc.Links))
	}
	var overview string
	for _, l := range inc.Links {
		if l.Name == "Payments API overview" {
			overview = l.URL
		}
	}
	if !strings.Contains(overview, "var-cluster=eu-west-1") || !strings.Contains(overview, "var-namespace=payments") || strings.Contains(overview, "{{") {
		t.Errorf("dashboard link: got %q, want it filled from the alert's labels", overview)
	}

	// The breadcrumb redirect sends the browser on and records the click.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(s.url + "/b/" + inc.ID + "/0?u=U123")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != inc.Links[0].URL {
		t.Errorf("redirect: got %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), inc.Links[0].URL)
	}
	detail := s.get("/api/incidents/"+inc.ID, "application/json")
	for _, want := range []string{`"incident.declared"`, `"runbook.attached"`, `"alert.fired"`, `"breadcrumb.opened"`} {
		if !strings.Contains(detail, want) {
			t.Errorf("the timeline lacks %s:\n%s", want, detail)
		}
	}
	metrics := s.get("/metrics", "text/plain")
	for _, want := range []string{
		`breadcrumb_webhooks_total{outcome="unauthorized",source="alertmanager"} 1`,
		`breadcrumb_webhooks_total{outcome="rejected",source="alertmanager"} 1`,
		`breadcrumb_incidents_open 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	page := s.get("/incidents/"+inc.ID, "text/html")
	if !strings.Contains(page, "Payments API 5xx spike") {
		t.Errorf("the console's incident page does not name the runbook")
	}
	s.stop()
}

func TestAPagerDutyWebhookWithoutSecretsIsRefused(t *testing.T) {
	s := startServe(t, serveEnv(t))
	body := []byte(`{"event":{"id":"01ABC","event_type":"incident.triggered","resource_type":"incident","occurred_at":"2026-11-25T03:00:00Z","data":{"id":"Q1","type":"incident","title":"x"}}}`)
	if code, _ := s.post("/webhooks/pagerduty", body, map[string]string{"X-PagerDuty-Signature": "v1=00"}); code != http.StatusForbidden && code != http.StatusUnauthorized {
		t.Errorf("got %d, want 401 or 403 when no webhook secret is configured", code)
	}
	s.stop()
}

func TestASignedPagerDutyWebhookOpensAnIncident(t *testing.T) {
	vars := serveEnv(t)
	vars["PAGERDUTY_WEBHOOK_SECRETS"] = "old-secret,new-secret"
	s := startServe(t, vars)
	body, err := os.ReadFile("../../integrations/pagerduty/testdata/v3_incident.triggered.json")
	if err != nil {
		t.Fatal(err)
	}
	sign := func(secret string, b []byte) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(b)
		return "v1=" + hex.EncodeToString(m.Sum(nil))
	}
	tampered := bytes.Replace(body, []byte(`"title"`), []byte(`"title" `), 1)
	cases := []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"forged", body, sign("guess", body), http.StatusForbidden},
		{"tampered", tampered, sign("new-secret", body), http.StatusForbidden},
		{"signed with the old secret during rotation", body, sign("guess", body) + "," + sign("old-secret", body), http.StatusAccepted},
		{"the same delivery again", body, sign("new-secret", body), http.StatusOK},
	}
	for _, c := range cases {
		code, msg := s.post("/webhooks/pagerduty", c.body, map[string]string{"X-PagerDuty-Signature": c.sig, "Content-Type": "application/json"})
		if code != c.want && !(c.want == http.StatusForbidden && code == http.StatusUnauthorized) {
			t.Errorf("%s: got %d %s, want %d", c.name, code, msg, c.want)
		}
	}
	list := s.waitIncidents(1)
	if got := list.Incidents[0]; got.Source != "pagerduty" || len(list.Incidents) != 1 {
		t.Errorf("got %+v, want one incident from PagerDuty", list.Incidents)
	}
	s.stop()
}

func TestAnAlertNoRunbookFitsForSureOpensAnIncidentWithSuggestions(t *testing.T) {
	vars := serveEnv(t)
	vars["ALERTMANAGER_WEBHOOK_TOKEN"] = "am-token"
	s := startServe(t, vars)
	now := time.Now().UTC().Format(time.RFC3339)
	// No page is named after it or bound to it; a directory of the
	// examples is named after its team's service.
	body := []byte(`{"version":"4","groupKey":"{}:{alertname=\"LabelPrinterJammed\"}","status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","alerts":[
{"status":"firing","labels":{"alertname":"LabelPrinterJammed","service":"fulfilment"},"annotations":{"summary":"The label printer of the warehouse is jammed"},"startsAt":"` + now + `","fingerprint":"lp1"}]}`)
	if code, msg := s.post("/webhooks/alertmanager", body, map[string]string{"Authorization": "Bearer am-token"}); code/100 != 2 {
		t.Fatalf("got %d %s", code, msg)
	}
	id := s.waitIncidents(1).Incidents[0].ID
	var got struct {
		Incident struct {
			Runbook     *struct{ ID string } `json:"runbook"`
			Suggestions []struct {
				ID, Path, Reason string
			} `json:"suggestions"`
			Searches []string `json:"searches"`
		} `json:"incident"`
	}
	if err := json.Unmarshal([]byte(s.get("/api/incidents/"+id, "application/json")), &got); err != nil {
		t.Fatal(err)
	}
	inc := got.Incident
	if inc.Runbook != nil {
		t.Errorf("a runbook was attached on weak evidence: %+v", inc.Runbook)
	}
	if len(inc.Suggestions) == 0 || !strings.HasPrefix(inc.Suggestions[0].Path, "fulfilment/") || inc.Suggestions[0].Reason == "" {
		t.Errorf("suggestions %+v, want a fulfilment page with its reason", inc.Suggestions)
	}
	if len(inc.Searches) == 0 || inc.Searches[0] != "label printer jammed" {
		t.Errorf("searches %q, want the alert's name in words first", inc.Searches)
	}
	page := s.get("/incidents/"+id, "text/html")
	if !strings.Contains(page, "No runbook matched") || !strings.Contains(page, "/runbooks/new?incident=") {
		t.Error("the incident's page does not say that no runbook matched, nor offer to write one")
	}
}

// TestTwentyAlertsOfA1MBLabelMakeASmallIncident replays a security
// review's finding against the whole service: twenty Alertmanager
// notifications, each adding an alert with a 1 MB label, made one 20 MB
// incident that GET /api/incidents answered in full. The caps on arrival
// keep the incident, and so the answers, small.
func TestTwentyAlertsOfA1MBLabelMakeASmallIncident(t *testing.T) {
	vars := serveEnv(t)
	vars["ALERTMANAGER_WEBHOOK_TOKEN"] = "am-token"
	s := startServe(t, vars)
	label := strings.Repeat("x", 1<<20)
	now := time.Now().UTC().Format(time.RFC3339)
	for i := range 20 {
		labels := map[string]string{"alertname": "DiskFull", "instance": fmt.Sprintf("host-%02d", i), "description": label}
		body, err := json.Marshal(map[string]any{
			"version": "4", "groupKey": `{}:{alertname="DiskFull"}`, "status": "firing", "receiver": "r",
			"groupLabels": map[string]string{"alertname": "DiskFull"}, "commonLabels": map[string]string{"alertname": "DiskFull"},
			"commonAnnotations": map[string]string{}, "externalURL": "http://am",
			"alerts": []map[string]any{{"status": "firing", "labels": labels, "annotations": map[string]string{"summary": "disk full"},
				"startsAt": now, "fingerprint": fmt.Sprint("fp", i)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if code, msg := s.post("/webhooks/alertmanager", body, map[string]string{"Authorization": "Bearer am-token"}); code/100 != 2 {
			t.Fatalf("notification %d: got %d %s", i, code, msg)
		}
	}
	stop := time.Now().Add(deadline)
	var list string
	for {
		list = s.get("/api/incidents", "application/json")
		var got apiIncidentList
		if err := json.Unmarshal([]byte(list), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Incidents) == 1 && len(got.Incidents[0].Alerts) == 20 {
			break
		}
		if time.Now().After(stop) {
			t.Fatalf("got %d incidents within %v, want 1 with 20 alerts; stderr:\n%s", len(got.Incidents), deadline, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Twenty alerts of a 4 KiB label: about 90 KB, where 20 MB arrived.
	if len(list) > 256<<10 {
		t.Errorf("GET /api/incidents answered %d bytes, want at most %d", len(list), 256<<10)
	}
	s.stop()
}
