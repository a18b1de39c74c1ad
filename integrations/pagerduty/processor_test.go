package pagerduty

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
)

const pdIncidentID = "Q2K4FZ5M0ZP1AB"

// newService returns an incidents.Service over a bbolt store in a
// temporary directory.
func newService(t *testing.T) *incidents.Service {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return incidents.NewService(st, incidents.Options{})
}

// pdEvent returns a webhook body made from a testdata body, with another
// event type, ID and time, and its data changed by edit (nil: unchanged).
func pdEvent(t *testing.T, file, eventType, id, occurredAt string, edit func(data map[string]any)) []byte {
	t.Helper()
	var body map[string]map[string]any
	if err := json.Unmarshal(readTestdata(t, file), &body); err != nil {
		t.Fatal(err)
	}
	ev := body["event"]
	ev["event_type"], ev["id"], ev["occurred_at"] = eventType, id, occurredAt
	if edit != nil {
		edit(ev["data"].(map[string]any))
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The events of one PagerDuty incident's life, in the order they happened.
func lifecycle(t *testing.T) map[string][]byte {
	t.Helper()
	status := func(s string) func(map[string]any) { return func(d map[string]any) { d["status"] = s } }
	return map[string][]byte{
		"triggered":      readTestdata(t, "v3_incident.triggered.json"),                                                                                // 03:12:09
		"acknowledged":   readTestdata(t, "v3_incident.acknowledged.json"),                                                                             // 03:14:51
		"priority":       pdEvent(t, "v3_incident.acknowledged.json", EventPriorityUpdated, "01EVPRIO", "2024-05-14T03:15:30Z", priority("P1")),        //
		"escalated":      pdEvent(t, "v3_incident.acknowledged.json", EventEscalated, "01EVESC", "2024-05-14T03:16:00Z", assignee("Sam Lee")),          //
		"unacknowledged": pdEvent(t, "v3_incident.acknowledged.json", EventUnacknowledged, "01EVUNACK", "2024-05-14T03:17:00Z", status("triggered")),   //
		"reassigned":     pdEvent(t, "v3_incident.acknowledged.json", EventReassigned, "01EVREASSIGN", "2024-05-14T03:18:00Z", assignee("Ravi Patel")), //
		"reacknowledged": pdEvent(t, "v3_incident.acknowledged.json", EventAcknowledged, "01EVREACK", "2024-05-14T03:19:00Z", nil),                     //
		"annotated":      readTestdata(t, "v3_incident.annotated.json"),                                                                                // 03:22:17
		"resolved":       readTestdata(t, "v3_incident.resolved.json"),                                                                                 // 03:40:02
		"reopened":       pdEvent(t, "v3_incident.resolved.json", EventReopened, "01EVREOPEN", "2024-05-14T04:00:00Z", status("triggered")),            //
	}
}

func priority(name string) func(map[string]any) {
	return func(d map[string]any) {
		d["priority"] = map[string]any{"id": "PSO75BM", "type": "priority_reference", "summary": name}
	}
}

func assignee(name string) func(map[string]any) {
	return func(d map[string]any) {
		d["assignees"] = []any{map[string]any{"id": "PX" + strings.ToUpper(name[:2]), "type": "user_reference", "summary": name}}
	}
}

func delivery(t *testing.T, body []byte) inbox.Delivery {
	t.Helper()
	var wire struct {
		Event struct {
			ID string `json:"id"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		t.Fatal(err)
	}
	return inbox.Delivery{ID: "pagerduty:" + wire.Event.ID, Source: "pagerduty", Body: body, ReceivedAt: time.Now(), Attempts: 1}
}

func handle(t *testing.T, p *Processor, body []byte) {
	t.Helper()
	if err := p.HandleDelivery(t.Context(), delivery(t, body)); err != nil {
		t.Fatalf("HandleDelivery: %v", err)
	}
}

// local returns the incident of the test's PagerDuty incident and its
// timeline.
func local(t *testing.T, svc *incidents.Service) (*incidents.Incident, []incidents.Event) {
	t.Helper()
	inc, err := svc.FindByRef(t.Context(), incidents.RefPagerDutyIncident, pdIncidentID)
	if err != nil {
		t.Fatalf("FindByRef: %v", err)
	}
	events, err := svc.Timeline(t.Context(), inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return inc, events
}

// summary renders a timeline as "type[/to]" items, for comparisons.
func summary(events []incidents.Event) string {
	var out []string
	for _, e := range events {
		s := string(e.Type)
		if to := e.Data["to"]; to != "" {
			s += "/" + to
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func count(events []incidents.Event, typ incidents.EventType) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestTriggeredOpensAnIncidentWithTheFetchedAlerts(t *testing.T) {
	_, srv := newFakePagerDuty(t, 100)
	svc := newService(t)
	p := NewProcessor(ProcessorConfig{Incidents: svc, Client: newTestClient(t, srv.URL)})
	handle(t, p, readTestdata(t, "v3_incident.triggered.json"))

	inc, events := local(t, svc)
	if inc.Title != "[FIRING:1] KubePodCrashLooping payments (checkout warning)" || inc.Source != "pagerduty" ||
		inc.Severity != 2 || inc.Service != "Checkout (Prometheus)" || inc.Status != incidents.StatusTriggered {
		t.Errorf("got title %q, source %q, severity %d, service %q, status %s; want the PagerDuty incident's, severity 2 (high urgency), triggered",
			inc.Title, inc.Source, inc.Severity, inc.Service, inc.Status)
	}
	var names []string
	for _, a := range inc.Alerts {
		names = append(names, a.Name)
	}
	// The second alert had resolved already: an alert never seen firing is
	// not added.
	if want := "KubePodCrashLooping CheckoutQueueBacklog Disk space low on db-3.acme.internal (4.5% free)"; strings.Join(names, " ") != want {
		t.Errorf("got alerts %q, want %q", names, want)
	}
	if got, want := summary(events), "incident.declared alert.fired alert.fired alert.fired"; got != want {
		t.Errorf("got timeline %q, want %q", got, want)
	}
	if want := mustTime(t, "2024-05-14T03:12:09Z"); !inc.CreatedAt.Equal(want) {
		t.Errorf("got created at %v, want the PagerDuty incident's %v", inc.CreatedAt, want)
	}
}

func TestTriggeredWithoutAClientOpensAnIncidentFromTheWebhook(t *testing.T) {
	svc := newService(t)
	p := NewProcessor(ProcessorConfig{Incidents: svc})
	handle(t, p, readTestdata(t, "v3_incident.triggered.json"))
	inc, _ := local(t, svc)
	if len(inc.Alerts) != 1 || inc.Alerts[0].Name != inc.Title || inc.Alerts[0].Labels["service"] != "Checkout (Prometheus)" {
		t.Errorf("got alerts %+v, want one named after the incident, with its service", inc.Alerts)
	}
}

func TestTriggeredWhilePagerDutysAPIFailsIsRetriedLater(t *testing.T) {
	f, srv := newFakePagerDuty(t, 100)
	svc := newService(t)
	p := NewProcessor(ProcessorConfig{Incidents: svc, Client: newTestClient(t, srv.URL)})
	f.alerts = nil // every list answers 404 below, once the failure is used
	d := delivery(t, readTestdata(t, "v3_incident.triggered.json"))

	// A 500 on the list of alerts: worth another attempt.
	f.failNext(serverError)
	err := p.HandleDelivery(t.Context(), d)
	if err == nil || fault.IsPermanent(err) || !IsRetryable(err) {
		t.Fatalf("got %v, want an error worth a retry", err)
	}
	if _, err := svc.FindByRef(t.Context(), incidents.RefPagerDutyIncident, pdIncidentID); !errors.Is(err, incidents.ErrNotFound) {
		t.Fatalf("got %v, want no incident yet", err)
	}
	// The next attempt: the incident is unknown to the API (404), which a
	// retry will not fix, so the webhook's incident is used.
	if err := p.HandleDelivery(t.Context(), d); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if inc, _ := local(t, svc); len(inc.Alerts) != 1 {
		t.Errorf("got %d alerts, want the webhook's one", len(inc.Alerts))
	}
}

func TestTriggeredStillOpensTheIncidentWhenPagerDutysAPIKeepsFailing(t *testing.T) {
	f, srv := newFakePagerDuty(t, 100)
	svc := newService(t)
	p := NewProcessor(ProcessorConfig{Incidents: svc, Client: newTestClient(t, srv.URL), FetchAttempts: 2})
	d := delivery(t, readTestdata(t, "v3_incident.triggered.json"))
	f.failNext(serverError, serverError)
	if err := p.HandleDelivery(t.Context(), d); err == nil {
		t.Fatal("first attempt: got no error, want one worth a retry")
	}
	d.Attempts = 2
	if err := p.HandleDelivery(t.Context(), d); err != nil {
		t.Fatalf("second attempt: got %v, want the incident opened from the webhook", err)
	}
	if inc, _ := local(t, svc); len(inc.Alerts) != 1 || inc.Alerts[0].Fingerprint != "pagerduty:"+pdIncidentID {
		t.Errorf("got alerts %+v, want the webhook's one", inc.Alerts)
	}
}

func TestTheWholeLifecycle(t *testing.T) {
	svc := newService(t)
	p := NewProcessor(ProcessorConfig{Incidents: svc})
	ev := lifecycle(t)
	steps := []struct {
		event    string
		status   incidents.Status
		severity int
	}{
		{"triggered", incidents.StatusTriggered, 2},
		{"acknowledged", incidents.StatusAcknowledged, 2},
		{"priority", incidents.StatusAcknowledged, 1},
		{"escalated", incidents.StatusAcknowledged, 1},
		{"unacknowledged", incidents.StatusTriggered, 1},
		{"reassigned", incidents.StatusTriggered, 1},
		{"reacknowledged", incidents.StatusAcknowledged, 1},
		{"annotated", incidents.StatusAcknowledged, 1},
		{"resolved", incidents.StatusResolved, 1},
		{"reopened", incidents.StatusTriggered, 1},
	}
	for _, s := range steps {
		handle(t, p, ev[s.event])
		inc, _ := local(t, svc)
		if inc.Status != s.status || inc.Severity != s.severity {
			t.Errorf("after %s: got %s, severity %d; want %s, %d", s.event, inc.Status, inc.Severity, s.status, s.severity)
		}
	}
	_, events := local(t, svc)
	want := "incident.declared alert.fired status.changed/acknowledged severity.changed/1 pagerduty.sync status.changed/triggered pagerduty.sync " +
		"status.changed/acknowledged note status.changed/resolved alert.resolved status.changed/triggered"
	if got := summary(events); got != want {
		t.Errorf("got timeline\n%s\nwant\n%s", got, want)
	}
	texts := map[incidents.EventType][]string{}
	for _, e := range events {
		texts[e.Type] = append(texts[e.Type], e.Text)
		if e.Type != incidents.EventDeclared && e.Type != incidents.EventAlertFired && e.Source != "pagerduty" {
			t.Errorf("event %s has source %q, want pagerduty", e.Type, e.Source)
		}
	}
	if got := texts[incidents.EventPagerDutySync]; !slices.Equal(got, []string{"Escalated in PagerDuty to Sam Lee", "Reassigned in PagerDuty to Ravi Patel"}) {
		t.Errorf("got sync texts %q", got)
	}
	if got := texts[incidents.EventNote]; len(got) != 1 || got[0] != "Rolled back checkout to v2.41.3; pods are starting." {
		t.Errorf("got notes %q, want PagerDuty's", got)
	}
	for _, e := range events {
		if e.Type == incidents.EventStatusChanged && e.Data["to"] == "acknowledged" && e.Actor != "Dana Okafor" {
			t.Errorf("got acknowledgement by %q, want the agent Dana Okafor", e.Actor)
		}
	}
}

func TestARedeliveryChangesNothing(t *testing.T) {
	svc := newService(t)
	p := NewProcessor(ProcessorConfig{Incidents: svc})
	ev := lifecycle(t)
	order := []string{"triggered", "acknowledged", "priority", "escalated", "annotated", "resolved"}
	for _, name := range order {
		handle(t, p, ev[name])
	}
	inc, before := local(t, svc)
	for _, name := range order {
		handle(t, p, ev[name])
	}
	after, events := local(t, svc)
	if len(events) != len(before) || after.Version != inc.Version || after.Status != incidents.StatusResolved {
		t.Errorf("got %d events, version %d, %s; want %d, %d, resolved", len(events), after.Version, after.Status, len(before), inc.Version)
	}
}

func TestEventsOutOfOrder(t *testing.T) {
	ev := lifecycle(t)
	tests := []struct {
		name     string
		order    []string
		status   incidents.Status
		timeline string
	}{
		{
			"an acknowledgement before its trigger opens the incident acknowledged",
			[]string{"acknowledged", "triggered"}, incidents.StatusAcknowledged,
			"incident.declared alert.fired status.changed/acknowledged",
		},
		{
			"a resolution before its trigger opens the incident and resolves it",
			[]string{"resolved", "triggered", "acknowledged"}, incidents.StatusResolved,
			"incident.declared alert.fired status.changed/resolved alert.resolved",
		},
		{
			"a note before its trigger opens the incident and keeps the note",
			[]string{"annotated", "triggered"}, incidents.StatusTriggered,
			"incident.declared alert.fired note",
		},
		{
			"an older unacknowledgement after a newer acknowledgement is ignored",
			[]string{"triggered", "reacknowledged", "unacknowledged"}, incidents.StatusAcknowledged,
			"incident.declared alert.fired status.changed/acknowledged",
		},
		{
			"an older reopening after a newer resolution is ignored",
			[]string{"triggered", "resolved", "unacknowledged"}, incidents.StatusResolved,
			"incident.declared alert.fired status.changed/resolved alert.resolved",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newService(t)
			p := NewProcessor(ProcessorConfig{Incidents: svc})
			for _, name := range tt.order {
				handle(t, p, ev[name])
			}
			inc, events := local(t, svc)
			if inc.Status != tt.status {
				t.Errorf("got %s, want %s", inc.Status, tt.status)
			}
			if got := summary(events); got != tt.timeline {
				t.Errorf("got timeline %q, want %q", got, tt.timeline)
			}
		})
	}
}

func TestThePartialIncidentOfAnEarlyNoteIsNamedAfterTheReference(t *testing.T) {
	svc := newService(t)
	p := NewProcessor(ProcessorConfig{Incidents: svc})
	handle(t, p, readTestdata(t, "v3_incident.annotated.json"))
	inc, _ := local(t, svc)
	if inc.Title != "[FIRING:1] KubePodCrashLooping payments (checkout warning)" {
		t.Errorf("got title %q, want the reference's summary", inc.Title)
	}
}

func TestTheEchoOfAChangeMadeHereChangesNothing(t *testing.T) {
	svc := newService(t)
	p := NewProcessor(ProcessorConfig{Incidents: svc})
	ev := lifecycle(t)
	handle(t, p, ev["triggered"])
	inc, _ := local(t, svc)
	ctx := t.Context()

	// Acknowledged in Slack; PagerDuty's webhook for it comes back.
	if _, err := svc.Transition(ctx, inc.ID, incidents.StatusAcknowledged, incidents.Action{Key: "slack:ack:1", Actor: "U0DANA", Source: "slack"}); err != nil {
		t.Fatal(err)
	}
	// A note written in Slack and sent (the Syncer records PagerDuty's note
	// ID), then one written in Slack whose record is not there yet.
	note := "Rolled back checkout to v2.41.3; pods are starting."
	if err := svc.Note(ctx, inc.ID, incidents.Action{Key: "slack:note:1", Actor: "U0DANA", Source: "slack", Text: note}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Synced(ctx, inc.ID, "Note added in PagerDuty", incidents.Action{Key: NoteKey("PNOTE42"), Source: "breadcrumb"}); err != nil {
		t.Fatal(err)
	}
	_, before := local(t, svc)

	handle(t, p, ev["acknowledged"])
	handle(t, p, ev["annotated"])
	// The same note again under another ID: recognised by its text.
	handle(t, p, pdEvent(t, "v3_incident.annotated.json", EventAnnotated, "01EVNOTE2", "2024-05-14T03:23:00Z", func(d map[string]any) {
		d["id"] = "PNOTE43"
	}))
	// and by the text the Syncer sends for an author without a PagerDuty user.
	if err := svc.Note(ctx, inc.ID, incidents.Action{Key: "slack:note:2", Actor: "U0SAM", Source: "slack", Text: "Scaled up"}); err != nil {
		t.Fatal(err)
	}
	handle(t, p, pdEvent(t, "v3_incident.annotated.json", EventAnnotated, "01EVNOTE3", "2024-05-14T03:24:00Z", func(d map[string]any) {
		d["id"], d["content"] = "PNOTE44", NoteContent("U0SAM", "Scaled up", false)
	}))

	after, events := local(t, svc)
	if after.Status != incidents.StatusAcknowledged {
		t.Errorf("got %s, want acknowledged", after.Status)
	}
	if got, want := len(events), len(before)+1; got != want {
		t.Errorf("got %d events (%s), want %d: the echoes added nothing but the second Slack note", got, summary(events), want)
	}
	if n := count(events, incidents.EventStatusChanged); n != 1 {
		t.Errorf("got %d status changes, want the one made in Slack", n)
	}
	for _, e := range events {
		if e.Type == incidents.EventNote && e.Source == "pagerduty" {
			t.Errorf("got PagerDuty's echo of a note on the timeline: %+v", e)
		}
	}
}

func TestDeliveriesThatCannotBeApplied(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		permanent bool
	}{
		{"a body that does not decode is permanent", `{"event":`, true},
		{"an incident event without an incident is permanent", `{"event":{"id":"E1","event_type":"incident.acknowledged","resource_type":"incident","data":null}}`, true},
		{"an incident ID that is not PagerDuty's is permanent", `{"event":{"id":"E1","event_type":"incident.acknowledged","resource_type":"incident","data":{"id":"../x","type":"incident","title":"t"}}}`, true},
		{"an event of another kind is ignored", string(readTestdata(t, "v3_service.updated.docs.json")), false},
		{"an incident event not applied is ignored", `{"event":{"id":"E1","event_type":"incident.responder.added","resource_type":"incident","data":{"type":"incident_responder","incident":{"id":"Q2K4FZ5M0ZP1AB"}}}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newService(t)
			p := NewProcessor(ProcessorConfig{Incidents: svc})
			err := p.HandleDelivery(t.Context(), inbox.Delivery{ID: "pagerduty:E1", Source: "pagerduty", Body: []byte(tt.body)})
			if tt.permanent != (err != nil && fault.IsPermanent(err)) || (!tt.permanent && err != nil) {
				t.Errorf("got %v, want permanent %v", err, tt.permanent)
			}
			if list, _ := svc.List(t.Context(), incidents.Filter{}); len(list) != 0 {
				t.Errorf("got %d incidents, want none", len(list))
			}
		})
	}
}

func TestPriorityUpdates(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(map[string]any)
		severity int
		text     string
	}{
		{"P1 sets severity 1", priority("P1"), 1, ""},
		{"a priority removed keeps the severity", func(d map[string]any) { d["priority"] = nil }, 2, "Priority set to none in PagerDuty"},
		{"a priority of another name keeps the severity", priority("Critical"), 2, "Priority set to Critical in PagerDuty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newService(t)
			p := NewProcessor(ProcessorConfig{Incidents: svc})
			handle(t, p, readTestdata(t, "v3_incident.triggered.json"))
			handle(t, p, pdEvent(t, "v3_incident.triggered.json", EventPriorityUpdated, "01EVPRIO", "2024-05-14T03:15:00Z", tt.edit))
			inc, events := local(t, svc)
			if inc.Severity != tt.severity {
				t.Errorf("got severity %d, want %d", inc.Severity, tt.severity)
			}
			if last := events[len(events)-1]; tt.text != "" && last.Text != tt.text {
				t.Errorf("got last event %s %q, want %q", last.Type, last.Text, tt.text)
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	tests := []struct {
		name string
		inc  *Incident
		want int
	}{
		{"priority P1 is severity 1", &Incident{Priority: &Reference{Summary: "P1"}, Urgency: "low"}, 1},
		{"priority P5 is severity 5", &Incident{Priority: &Reference{Summary: "P5"}}, 5},
		{"priority SEV3 is severity 3", &Incident{Priority: &Reference{Summary: "sev 3"}}, 3},
		{"an unknown priority falls back on the urgency", &Incident{Priority: &Reference{Summary: "Critical"}, Urgency: "high"}, 2},
		{"high urgency is severity 2", &Incident{Urgency: "high"}, 2},
		{"low urgency is severity 4", &Incident{Urgency: "low"}, 4},
		{"nothing known is 0", &Incident{}, 0},
		{"P9 is not a severity", &Incident{Priority: &Reference{Summary: "P9"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Severity(tt.inc); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}
