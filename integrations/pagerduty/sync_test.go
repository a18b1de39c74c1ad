package pagerduty

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// syncFixture is a Service that PagerDuty's webhooks feed and a running
// Syncer observes, against the fake REST API.
type syncFixture struct {
	f      *fakePagerDuty
	svc    *incidents.Service
	p      *Processor
	syncer *Syncer
	inc    *incidents.Incident // the incident the triggered webhook opened
}

func newSyncFixture(t *testing.T, cfg SyncConfig) *syncFixture {
	t.Helper()
	f, srv := newFakePagerDuty(t, 100)
	client := newTestClient(t, srv.URL)
	svc := newService(t)
	cfg.Client, cfg.Incidents = client, svc
	if cfg.FromEmail == nil {
		cfg.FromEmail = func(actor string) string { return map[string]string{"U0DANA": "dana@acme.example"}[actor] }
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 5 * time.Millisecond
	}
	s := NewSyncer(cfg)
	svc.Subscribe(s)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	t.Cleanup(func() {
		s.Close()
		cancel()
		<-ran
	})
	fx := &syncFixture{f: f, svc: svc, p: NewProcessor(ProcessorConfig{Incidents: svc, Client: client}), syncer: s}
	handle(t, fx.p, readTestdata(t, "v3_incident.triggered.json"))
	fx.inc, _ = local(t, svc)
	return fx
}

// syncTexts waits until the incident's timeline holds n sync records made
// by the Syncer, and returns their texts.
func (fx *syncFixture) syncTexts(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		events, err := fx.svc.Timeline(t.Context(), fx.inc.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, e := range events {
			if e.Type == incidents.EventPagerDutySync && e.Source == "breadcrumb" {
				texts = append(texts, e.Text)
			}
		}
		if len(texts) >= n {
			return texts
		}
		if time.Now().After(deadline) {
			t.Fatalf("got sync records %q, want %d of them", texts, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (fx *syncFixture) ack(t *testing.T, actor string) {
	t.Helper()
	if _, err := fx.svc.Transition(t.Context(), fx.inc.ID, incidents.StatusAcknowledged,
		incidents.Action{Key: "slack:ack:" + actor, Actor: actor, Source: "slack"}); err != nil {
		t.Fatal(err)
	}
}

func TestAnAcknowledgementInSlackIsSentToPagerDutyAsTheUser(t *testing.T) {
	fx := newSyncFixture(t, SyncConfig{DefaultFrom: "breadcrumb@acme.example"})
	fx.ack(t, "U0DANA")
	if got := fx.syncTexts(t, 1); got[0] != "Acknowledged in PagerDuty as dana@acme.example" {
		t.Errorf("got %q, want the acknowledgement recorded", got)
	}
	// Resolved by someone without a PagerDuty user: sent as the default.
	if _, err := fx.svc.Transition(t.Context(), fx.inc.ID, incidents.StatusResolved, incidents.Action{Key: "slack:resolve", Actor: "U0SAM", Source: "slack"}); err != nil {
		t.Fatal(err)
	}
	if got := fx.syncTexts(t, 2); got[1] != "Resolved in PagerDuty as breadcrumb@acme.example" {
		t.Errorf("got %q, want the resolution recorded", got)
	}
	want := "PUT /incidents Q2K4FZ5M0ZP1AB acknowledged from=dana@acme.example|PUT /incidents Q2K4FZ5M0ZP1AB resolved from=breadcrumb@acme.example"
	if got := strings.Join(fx.f.recorded(), "|"); got != want {
		t.Errorf("got calls %q, want %q", got, want)
	}

	// PagerDuty's webhooks for these changes come back: nothing changes.
	_, before := local(t, fx.svc)
	handle(t, fx.p, readTestdata(t, "v3_incident.acknowledged.json"))
	handle(t, fx.p, readTestdata(t, "v3_incident.resolved.json"))
	inc, after := local(t, fx.svc)
	if inc.Status != incidents.StatusResolved || count(after, incidents.EventStatusChanged) != 2 {
		t.Errorf("got %s with timeline %s, want resolved with the two changes made in Slack", inc.Status, summary(after))
	}
	if added := after[len(before):]; len(added) != len(inc.Alerts) || count(added, incidents.EventAlertResolved) != len(added) {
		t.Errorf("got timeline %s after the echoes, want only the %d alerts recorded resolved", summary(added), len(inc.Alerts))
	}
	time.Sleep(20 * time.Millisecond)
	if got := len(fx.f.recorded()); got != 2 {
		t.Errorf("got %d calls, want the echoes sent nothing back", got)
	}
}

func TestANoteInSlackIsSentOnceAndItsEchoIsNotAddedAgain(t *testing.T) {
	fx := newSyncFixture(t, SyncConfig{DefaultFrom: "breadcrumb@acme.example",
		Name: func(actor string) string { return map[string]string{"U0SAM": "Sam Lee"}[actor] }})
	note := "Rolled back checkout to v2.41.3; pods are starting."
	if err := fx.svc.Note(t.Context(), fx.inc.ID, incidents.Action{Key: "slack:note:1", Actor: "U0DANA", Source: "slack", Text: note}); err != nil {
		t.Fatal(err)
	}
	if err := fx.svc.Note(t.Context(), fx.inc.ID, incidents.Action{Key: "slack:note:2", Actor: "U0SAM", Source: "slack", Text: "Scaled up"}); err != nil {
		t.Fatal(err)
	}
	fx.syncTexts(t, 2)
	want := "POST /incidents/Q2K4FZ5M0ZP1AB/notes from=dana@acme.example: " + note +
		"|POST /incidents/Q2K4FZ5M0ZP1AB/notes from=breadcrumb@acme.example: Scaled up\n\n(Sam Lee, via Breadcrumb)"
	if got := strings.Join(fx.f.recorded(), "|"); got != want {
		t.Errorf("got calls %q, want %q", got, want)
	}
	_, before := local(t, fx.svc)
	// PagerDuty's webhooks for both notes, with the IDs it gave them.
	for i, content := range []string{note, NoteContent("Sam Lee", "Scaled up", false)} {
		handle(t, fx.p, pdEvent(t, "v3_incident.annotated.json", EventAnnotated, fmt.Sprintf("01EVECHO%d", i), "2024-05-14T03:30:00Z", func(d map[string]any) {
			d["id"], d["content"] = fmt.Sprintf("PNOTE%03d", i+1), content
		}))
	}
	_, after := local(t, fx.svc)
	if len(after) != len(before) {
		t.Errorf("got %s added, want nothing", summary(after[len(before):]))
	}
	if n := count(after, incidents.EventNote); n != 2 {
		t.Errorf("got %d notes, want the two written in Slack", n)
	}
}

func TestARateLimitIsWaitedOutThenTheChangeIsSent(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		atLeast    time.Duration
	}{
		{"with Retry-After, the time asked is waited", "1", time.Second},
		{"without Retry-After, the backoff is waited", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newSyncFixture(t, SyncConfig{DefaultFrom: "breadcrumb@acme.example"})
			fx.f.failNext(rateLimited(tt.retryAfter), rateLimited(tt.retryAfter))
			start := time.Now()
			fx.ack(t, "U0DANA")
			got := fx.syncTexts(t, 1)
			if waited := time.Since(start); waited < 2*tt.atLeast {
				t.Errorf("the change went through after %v, want at least %v (twice Retry-After)", waited, 2*tt.atLeast)
			}
			if got[0] != "Acknowledged in PagerDuty as dana@acme.example" || len(fx.f.recorded()) != 1 || fx.f.failuresLeft() != 0 {
				t.Errorf("got %q and calls %q, want the acknowledgement sent after the two 429", got, fx.f.recorded())
			}
		})
	}
}

func TestFailuresAreRecordedOnTheTimeline(t *testing.T) {
	unauthorised := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusUnauthorized, 2006, "Authentication failed")
	}
	tests := []struct {
		name     string
		failures []http.HandlerFunc
		cfg      SyncConfig
		actor    string
		want     string
		left     int // failures not used: no retry after a refusal
	}{
		{
			"a rejected token is reported and not retried", []http.HandlerFunc{unauthorised, unauthorised},
			SyncConfig{DefaultFrom: "breadcrumb@acme.example"}, "U0DANA",
			"PagerDuty refused to acknowledge: 401 Authentication failed", 1,
		},
		{
			"server errors are retried a bounded number of times, then reported", []http.HandlerFunc{serverError, serverError, serverError, serverError},
			SyncConfig{DefaultFrom: "breadcrumb@acme.example", MaxAttempts: 3}, "U0DANA",
			"PagerDuty did not acknowledge after 3 attempts: 500", 1,
		},
		{
			"a From PagerDuty does not know is reported", nil,
			SyncConfig{DefaultFrom: "nobody@acme.example"}, "U0SAM",
			`PagerDuty refused to acknowledge: 400 Invalid Input Provided (The From header "nobody@acme.example" is not the email of a user of this account.)`, 0,
		},
		{
			"an unmapped user without a default is reported", nil,
			SyncConfig{}, "U0SAM",
			"Could not acknowledge in PagerDuty: no From address (the email of a PagerDuty user)", 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newSyncFixture(t, tt.cfg)
			fx.f.failNext(tt.failures...)
			fx.ack(t, tt.actor)
			got := fx.syncTexts(t, 1)
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Errorf("got %q, want one record starting %q", got, tt.want)
			}
			if strings.Contains(strings.Join(got, " "), testToken) {
				t.Errorf("the record shows the token: %q", got)
			}
			if n := fx.f.failuresLeft(); n != tt.left || len(fx.f.recorded()) != 0 {
				t.Errorf("got %d failures left and calls %q, want %d and none", n, fx.f.recorded(), tt.left)
			}
		})
	}
}

func TestWhatIsNotSentToPagerDuty(t *testing.T) {
	fx := newSyncFixture(t, SyncConfig{DefaultFrom: "breadcrumb@acme.example"})
	ctx := t.Context()
	// PagerDuty's own changes, a status PagerDuty does not have, and an
	// incident that did not come from PagerDuty.
	handle(t, fx.p, readTestdata(t, "v3_incident.acknowledged.json"))
	if _, err := fx.svc.Transition(ctx, fx.inc.ID, incidents.StatusMitigated, incidents.Action{Key: "slack:mitigate", Actor: "U0DANA", Source: "slack"}); err != nil {
		t.Fatal(err)
	}
	other, _, err := fx.svc.Declare(ctx, incidents.Declaration{Title: "By hand", Source: "slack"}, incidents.Action{Actor: "U0DANA", Source: "slack"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.svc.Transition(ctx, other.ID, incidents.StatusAcknowledged, incidents.Action{Actor: "U0DANA", Source: "slack"}); err != nil {
		t.Fatal(err)
	}
	// A change that is sent marks the end of the queue.
	if err := fx.svc.Note(ctx, fx.inc.ID, incidents.Action{Actor: "U0DANA", Source: "slack", Text: "marker"}); err != nil {
		t.Fatal(err)
	}
	fx.syncTexts(t, 1)
	if got := fx.f.recorded(); len(got) != 1 || !strings.HasSuffix(got[0], ": marker") {
		t.Errorf("got calls %q, want only the marker note", got)
	}
}

func TestCloseSendsWhatIsQueuedFirst(t *testing.T) {
	f, srv := newFakePagerDuty(t, 100)
	client := newTestClient(t, srv.URL)
	svc := newService(t)
	s := NewSyncer(SyncConfig{Client: client, Incidents: svc, DefaultFrom: "breadcrumb@acme.example"})
	svc.Subscribe(s)
	handle(t, NewProcessor(ProcessorConfig{Incidents: svc}), readTestdata(t, "v3_incident.triggered.json"))
	inc, _ := local(t, svc)
	for i := range 5 {
		if err := svc.Note(t.Context(), inc.ID, incidents.Action{Actor: "U0DANA", Source: "slack", Text: fmt.Sprintf("note %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Run(context.Background()); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := f.recorded(); len(got) != 5 {
		t.Errorf("got %d notes sent, want the 5 queued before Close", len(got))
	}
	// After Close, a change is not sent, and the timeline says so.
	if err := svc.Note(t.Context(), inc.ID, incidents.Action{Key: "late", Actor: "U0DANA", Source: "slack", Text: "late"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		events, _ := svc.Timeline(t.Context(), inc.ID, 0, 0)
		if e := events[len(events)-1]; e.Type == incidents.EventPagerDutySync && strings.Contains(e.Text, "shutting down") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got timeline %s, want the late note reported not sent", summary(events))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestObserveNeverBlocks(t *testing.T) {
	_, srv := newFakePagerDuty(t, 100)
	svc := newService(t)
	s := NewSyncer(SyncConfig{Client: newTestClient(t, srv.URL), Incidents: svc, QueueSize: 2, DefaultFrom: "breadcrumb@acme.example"})
	svc.Subscribe(s)
	handle(t, NewProcessor(ProcessorConfig{Incidents: svc}), readTestdata(t, "v3_incident.triggered.json"))
	inc, _ := local(t, svc)
	// Run is not started: the queue fills, and the notes after it are
	// reported not sent instead of waiting.
	for i := range 4 {
		if err := svc.Note(t.Context(), inc.ID, incidents.Action{Actor: "U0DANA", Source: "slack", Text: fmt.Sprintf("note %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		events, _ := svc.Timeline(t.Context(), inc.ID, 0, 0)
		if n := count(events, incidents.EventPagerDutySync); n == 2 {
			for _, e := range events {
				if e.Type == incidents.EventPagerDutySync && e.Text != "Not sent to PagerDuty: 2 changes are already waiting" {
					t.Errorf("got %q", e.Text)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got timeline %s, want two notes reported not sent", summary(events))
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
}
