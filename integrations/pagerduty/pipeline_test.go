package pagerduty

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// TestWebhooksThroughTheInboxToIncidentsAndBack wires the parts as the
// service does: the handler stores signed webhooks in a bbolt inbox, the
// inbox worker hands them to the Processor, and the Syncer sends a change
// made in Slack to the fake REST API, whose echo then changes nothing.
func TestWebhooksThroughTheInboxToIncidentsAndBack(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "breadcrumb.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f, api := newFakePagerDuty(t, 100)
	client := newTestClient(t, api.URL)
	svc := incidents.NewService(st, incidents.Options{})
	syncer := NewSyncer(SyncConfig{Client: client, Incidents: svc, DefaultFrom: "breadcrumb@acme.example",
		FromEmail: func(actor string) string { return map[string]string{"U0DANA": "dana@acme.example"}[actor] }})
	svc.Subscribe(syncer)
	worker := inbox.NewWorker(st, map[string]inbox.Handler{
		Source: NewProcessor(ProcessorConfig{Incidents: svc, Client: client}),
	}, inbox.WorkerOptions{Poll: 10 * time.Millisecond})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { syncer.Run(ctx); done <- struct{}{} }()
	go func() { worker.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { syncer.Close(); cancel(); <-done; <-done })

	key := secret.New(webhookSecret)
	srv := httptest.NewServer(NewWebhookHandler(WebhookConfig{Secrets: []secret.String{key}, Inbox: st, Kick: worker.Kick}))
	t.Cleanup(srv.Close)
	post := func(name string) {
		t.Helper()
		body := readTestdata(t, name)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set(SignatureHeader, Sign(body, key))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s: got %d, want 202", name, resp.StatusCode)
		}
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("waited in vain for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	find := func() (*incidents.Incident, []incidents.Event) {
		inc, err := svc.FindByRef(t.Context(), incidents.RefPagerDutyIncident, pdIncidentID)
		if err != nil {
			return nil, nil
		}
		events, _ := svc.Timeline(t.Context(), inc.ID, 0, 0)
		return inc, events
	}

	// The acknowledgement and a note come before the trigger.
	post("v3_incident.acknowledged.json")
	post("v3_incident.annotated.json")
	post("v3_incident.triggered.json")
	wait("the three webhooks applied", func() bool {
		inc, events := find()
		return inc != nil && count(events, incidents.EventNote) == 1 && len(inc.Alerts) == 3
	})
	inc, _ := find()
	if inc.Status != incidents.StatusAcknowledged || inc.Title != "[FIRING:1] KubePodCrashLooping payments (checkout warning)" {
		t.Errorf("got %s %q, want the PagerDuty incident acknowledged", inc.Status, inc.Title)
	}

	// Resolved in Slack: sent to PagerDuty, whose webhook comes back.
	if _, err := svc.Transition(t.Context(), inc.ID, incidents.StatusResolved, incidents.Action{Key: "slack:1", Actor: "U0DANA", Source: "slack"}); err != nil {
		t.Fatal(err)
	}
	wait("the resolution sent", func() bool { return len(f.recorded()) == 1 })
	if got, want := f.recorded()[0], "PUT /incidents Q2K4FZ5M0ZP1AB resolved from=dana@acme.example"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	post("v3_incident.resolved.json")
	wait("the echo processed", func() bool {
		_, events := find()
		return count(events, incidents.EventAlertResolved) == 3
	})
	_, events := find()
	var statuses []string
	for _, e := range events {
		if e.Type == incidents.EventStatusChanged {
			statuses = append(statuses, e.Source+":"+e.Data["to"])
		}
	}
	if got := strings.Join(statuses, " "); got != "pagerduty:acknowledged slack:resolved" {
		t.Errorf("got status changes %q, want PagerDuty's acknowledgement and Slack's resolution only", got)
	}
}
