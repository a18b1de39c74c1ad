package pagerduty

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// envelope wraps event data the way a v3 webhook carries it.
func envelope(eventType string, data []byte) []byte {
	return fmt.Appendf(nil, `{"event":{"id":"01TESTEVENT","event_type":%q,"resource_type":"incident","occurred_at":"2024-05-14T03:12:09.481Z","agent":null,"client":null,"data":%s}}`, eventType, data)
}

func TestDecodeWebhookReadsEveryIncidentEvent(t *testing.T) {
	p2 := &Reference{ID: "PQ0P2Y3", Type: "priority_reference", Summary: "P2", Self: "https://api.pagerduty.com/priorities/PQ0P2Y3", HTMLURL: "https://acme.pagerduty.com/account/incident_priorities"}
	p1 := &Reference{ID: "PSO75BM", Type: "priority_reference", Summary: "P1", Self: "https://api.pagerduty.com/priorities/PSO75BM", HTMLURL: "https://acme.pagerduty.com/account/incident_priorities"}
	tests := []struct {
		file                    string
		eventType, eventID      string
		occurredAt              string
		agent, client           string // summary and name, "" for null
		id, title, status       string
		number                  int
		service, urgency        string
		priority                *Reference
		bridge                  *ConferenceBridge
		reopened                string
		incidentType, mergeInto string
		created                 string
		partial                 bool
	}{
		{
			file: "v3_incident.priority_updated.docs.json", eventType: "incident.priority_updated", eventID: "5ac64822-4adc-4fda-ade0-410becf0de4f",
			occurredAt: "2020-10-02T18:45:22.169Z", agent: "Tenex Engineer", client: "PagerDuty",
			id: "PGR0VU2", title: "A little bump in the road", status: "triggered", number: 2, service: "API Service", urgency: "high", priority: p1,
			bridge: &ConferenceBridge{ConferenceNumber: "+1 1234123412,,987654321#", ConferenceURL: "https://example.com"}, reopened: "2020-10-02T18:45:22Z",
			created: "2020-04-09T15:16:27Z",
		},
		{
			file: "v3_incident.priority_updated.go-pagerduty.json", eventType: "incident.priority_updated", eventID: "01BWDWL3NYY7LUFPZCC28QUCMK",
			occurredAt: "2021-04-26T17:36:27.458Z", agent: "Tenex Engineer",
			id: "PGR0VU2", title: "A little bump in the road", status: "triggered", number: 2, service: "API Service", urgency: "high", priority: p1,
			bridge: &ConferenceBridge{ConferenceNumber: "1000", ConferenceURL: "https://example.com"},
		},
		{
			file: "v3_incident.triggered.json", eventType: "incident.triggered", eventID: "01EVN6CUSDOHWYQ3M3D5IFVG4K",
			occurredAt: "2024-05-14T03:12:09.481Z", agent: "Checkout (Prometheus)",
			id: "Q2K4FZ5M0ZP1AB", title: "[FIRING:1] KubePodCrashLooping payments (checkout warning)", status: "triggered", number: 4812,
			service: "Checkout (Prometheus)", urgency: "high", incidentType: "incident_default",
			created: "2024-05-14T03:12:09Z",
		},
		{
			file: "v3_incident.acknowledged.json", eventType: "incident.acknowledged", eventID: "01EVN6DVZ0Q7YHMTRB4UGE6XJ2",
			occurredAt: "2024-05-14T03:14:51.020Z", agent: "Dana Okafor", client: "PagerDuty Mobile",
			id: "Q2K4FZ5M0ZP1AB", title: "[FIRING:1] KubePodCrashLooping payments (checkout warning)", status: "acknowledged", number: 4812,
			service: "Checkout (Prometheus)", urgency: "high", priority: p2, incidentType: "incident_default",
			created: "2024-05-14T03:12:09Z",
		},
		{
			file: "v3_incident.resolved.json", eventType: "incident.resolved", eventID: "01EVN6FQ2S7K1R8W3T5V9X0Y4Z",
			occurredAt: "2024-05-14T03:40:02.733Z",
			id:         "Q2K4FZ5M0ZP1AB", title: "[FIRING:1] KubePodCrashLooping payments (checkout warning)", status: "resolved", number: 4812,
			service: "Checkout (Prometheus)", urgency: "high", priority: p2, incidentType: "incident_default", mergeInto: "Q0ZZTOP9XY12CD",
			created: "2024-05-14T03:12:09Z",
		},
		{
			file: "v3_incident.annotated.json", eventType: "incident.annotated", eventID: "01EVN6EAXK3M9P0QYJ6B2C8D7F",
			occurredAt: "2024-05-14T03:22:17.118Z", agent: "Dana Okafor", client: "PagerDuty",
			id: "Q2K4FZ5M0ZP1AB", title: "[FIRING:1] KubePodCrashLooping payments (checkout warning)", partial: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := DecodeWebhook(bytes.NewReader(readTestdata(t, tt.file)), 0)
			if err != nil {
				t.Fatalf("DecodeWebhook: %v", err)
			}
			if ev.EventType != tt.eventType || ev.ID != tt.eventID || ev.ResourceType != "incident" || !ev.OccurredAt.Equal(mustTime(t, tt.occurredAt)) {
				t.Errorf("got event %s %s %s %v, want %s %s incident %s", ev.EventType, ev.ID, ev.ResourceType, ev.OccurredAt, tt.eventType, tt.eventID, tt.occurredAt)
			}
			var agent, client string
			if ev.Agent != nil {
				agent = ev.Agent.Summary
			}
			if ev.Client != nil {
				client = ev.Client.Name
			}
			if agent != tt.agent || client != tt.client {
				t.Errorf("got agent %q, client %q; want %q, %q", agent, client, tt.agent, tt.client)
			}

			inc, err := ev.Incident()
			if err != nil {
				t.Fatalf("Incident: %v", err)
			}
			if inc.ID != tt.id || inc.Title != tt.title || inc.Status != tt.status || inc.Number != tt.number || inc.Urgency != tt.urgency || inc.Partial != tt.partial {
				t.Errorf("got incident %s %q %s #%d urgency %q partial %v, want %s %q %s #%d urgency %q partial %v",
					inc.ID, inc.Title, inc.Status, inc.Number, inc.Urgency, inc.Partial, tt.id, tt.title, tt.status, tt.number, tt.urgency, tt.partial)
			}
			var service string
			if inc.Service != nil {
				service = inc.Service.Summary
			}
			if service != tt.service {
				t.Errorf("got service %q, want %q", service, tt.service)
			}
			if !reflect.DeepEqual(inc.Priority, tt.priority) {
				t.Errorf("got priority %+v, want %+v", inc.Priority, tt.priority)
			}
			if !reflect.DeepEqual(inc.ConferenceBridge, tt.bridge) {
				t.Errorf("got conference bridge %+v, want %+v", inc.ConferenceBridge, tt.bridge)
			}
			var created time.Time
			if tt.created != "" {
				created = mustTime(t, tt.created)
			}
			if !inc.CreatedAt.Equal(created) {
				t.Errorf("got created_at %v, want %v", inc.CreatedAt, created)
			}
			var reopened time.Time
			if tt.reopened != "" {
				reopened = mustTime(t, tt.reopened)
			}
			if !inc.ReopenedAt.Equal(reopened) {
				t.Errorf("got reopened_at %v, want %v", inc.ReopenedAt, reopened)
			}
			var incidentType, mergeInto string
			if inc.IncidentType != nil {
				incidentType = inc.IncidentType.Name
			}
			if inc.ResolveReason != nil && inc.ResolveReason.Incident != nil {
				mergeInto = inc.ResolveReason.Incident.ID
			}
			if incidentType != tt.incidentType || mergeInto != tt.mergeInto {
				t.Errorf("got incident type %q, merged into %q; want %q, %q", incidentType, mergeInto, tt.incidentType, tt.mergeInto)
			}
			if !tt.partial && (len(inc.Assignees) != 1 || len(inc.Teams) != 1 || inc.EscalationPolicy == nil || inc.HTMLURL == "" || inc.Self == "") {
				t.Errorf("got incident %+v, want assignees, teams, escalation policy and links", inc)
			}
		})
	}
}

func TestDecodeWebhookReadsTheFullIncidentOfTheDocs(t *testing.T) {
	ev, err := DecodeWebhook(bytes.NewReader(envelope("incident.triggered", readTestdata(t, "docs_event_data_incident.json"))), 0)
	if err != nil {
		t.Fatalf("DecodeWebhook: %v", err)
	}
	got, err := ev.Incident()
	if err != nil {
		t.Fatalf("Incident: %v", err)
	}
	ref := func(id, typ, summary, self, html string) Reference {
		return Reference{ID: id, Type: typ, Summary: summary, Self: "https://api.pagerduty.com/" + self, HTMLURL: "https://acme.pagerduty.com/" + html}
	}
	service := ref("PF9KMXH", "service_reference", "API Service", "services/PF9KMXH", "services/PF9KMXH")
	policy := ref("PUS0KTE", "escalation_policy_reference", "Default", "escalation_policies/PUS0KTE", "escalation_policies/PUS0KTE")
	priority := ref("PSO75BM", "priority_reference", "P1", "priorities/PSO75BM", "account/incident_priorities")
	want := &Incident{
		ID:               "PGR0VU2",
		Type:             "incident",
		Self:             "https://api.pagerduty.com/incidents/PGR0VU2",
		HTMLURL:          "https://acme.pagerduty.com/incidents/PGR0VU2",
		Number:           2,
		Status:           "triggered",
		IncidentKey:      "d3640fbd41094207a1c11e58e46b1662",
		CreatedAt:        mustTime(t, "2020-04-09T15:16:27Z"),
		ReopenedAt:       mustTime(t, "2020-10-02T18:45:22Z"),
		Title:            "A little bump in the road",
		IncidentType:     &IncidentType{Name: "major"},
		Service:          &service,
		Assignees:        []Reference{ref("PTUXL6G", "user_reference", "User 123", "users/PTUXL6G", "users/PTUXL6G")},
		EscalationPolicy: &policy,
		Teams:            []Reference{ref("PFCVPS0", "team_reference", "Engineering", "teams/PFCVPS0", "teams/PFCVPS0")},
		Priority:         &priority,
		Urgency:          "high",
		ConferenceBridge: &ConferenceBridge{ConferenceNumber: "+1 1234123412,,987654321#", ConferenceURL: "https://example.com"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

// TestIncidentTypesNameEveryDocumentedField guards against a misspelt JSON
// tag: a field the decoder does not know is silently left zero.
func TestIncidentTypesNameEveryDocumentedField(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(readTestdata(t, "docs_event_data_incident.json"), &doc); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	rt := reflect.TypeFor[Incident]()
	for i := range rt.NumField() {
		known[strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]] = true
	}
	for k := range doc {
		if !known[k] {
			t.Errorf("documented incident field %q has no field in Incident", k)
		}
	}
}

func TestIncidentOfEveryIncidentDataTypeNamesTheIncident(t *testing.T) {
	tests := []struct {
		file, eventType string
		id, title       string
		partial         bool
	}{
		{"docs_event_data_incident.json", "incident.triggered", "PGR0VU2", "A little bump in the road", false},
		{"docs_event_data_incident_note.json", "incident.annotated", "PGR0VU2", "A little bump in the road", true},
		{"docs_event_data_incident_responder.json", "incident.responder.added", "PGR0VU2", "A little bump in the road", true},
		{"docs_event_data_incident_status_update.json", "incident.status_update_published", "PGR0VU2", "A little bump in the road", true},
		{"docs_event_data_incident_conference_bridge.json", "incident.conference_bridge.updated", "PGR0VU2", "Major incident - customer shopping cart screen", true},
		// The event types below are illustrative: Incident reads data.type.
		{"docs_event_data_incident_field_values.json", "incident.custom_field_values.updated", "PBAZLIU", "", true},
		{"docs_event_data_incident_workflow_instance.json", "incident.workflow.started", "PBAZLIU", "A little bump in the road", true},
		{"docs_event_data_incident_action_invocation.json", "incident.action_invocation.created", "PBAZLIU", "An Incident", true},
		{"docs_event_data_incident_role_assignment.json", "incident.role.assigned", "PBAZLIU", "", true},
		{"docs_event_data_incident_task.json", "incident.task.created", "Q0SDD3HB6SGFTI", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := DecodeWebhook(bytes.NewReader(envelope(tt.eventType, readTestdata(t, tt.file))), 0)
			if err != nil {
				t.Fatalf("DecodeWebhook: %v", err)
			}
			inc, err := ev.Incident()
			if err != nil {
				t.Fatalf("Incident: %v", err)
			}
			if inc.ID != tt.id || inc.Title != tt.title || inc.Partial != tt.partial {
				t.Errorf("got incident %s %q partial %v, want %s %q partial %v", inc.ID, inc.Title, inc.Partial, tt.id, tt.title, tt.partial)
			}
			if tt.partial && !strings.HasPrefix(inc.HTMLURL, "https://acme.pagerduty.com/incidents/") {
				t.Errorf("got html_url %q, want the reference's", inc.HTMLURL)
			}
			a := AlertFromIncident(inc)
			if a.ExternalID != tt.id || a.Source != runbooks.SourcePagerDuty {
				t.Errorf("got alert %+v, want external ID %s from pagerduty", a, tt.id)
			}
		})
	}
}

func TestDecodeDataReadsTheNoteOfAnAnnotatedEvent(t *testing.T) {
	ev, err := DecodeWebhook(bytes.NewReader(readTestdata(t, "v3_incident.annotated.json")), 0)
	if err != nil {
		t.Fatal(err)
	}
	var note IncidentNote
	if err := ev.DecodeData(&note); err != nil {
		t.Fatalf("DecodeData: %v", err)
	}
	want := IncidentNote{
		ID:   "PNOTE42",
		Type: "incident_note",
		Incident: Reference{
			ID: "Q2K4FZ5M0ZP1AB", Type: "incident_reference", Summary: "[FIRING:1] KubePodCrashLooping payments (checkout warning)",
			Self: "https://api.pagerduty.com/incidents/Q2K4FZ5M0ZP1AB", HTMLURL: "https://acme.pagerduty.com/incidents/Q2K4FZ5M0ZP1AB",
		},
		Content: "Rolled back checkout to v2.41.3; pods are starting.",
	}
	if note != want {
		t.Errorf("got %+v, want %+v", note, want)
	}
}

func TestIncidentOfAServiceEventIsErrNotIncident(t *testing.T) {
	ev, err := DecodeWebhook(bytes.NewReader(readTestdata(t, "v3_service.updated.docs.json")), 0)
	if err != nil {
		t.Fatalf("DecodeWebhook: %v", err)
	}
	if ev.Agent != nil || ev.Client != nil {
		t.Errorf("got agent %v, client %v; want nil for null", ev.Agent, ev.Client)
	}
	inc, err := ev.Incident()
	if !errors.Is(err, ErrNotIncident) || inc != nil {
		t.Fatalf("got %+v, %v; want ErrNotIncident", inc, err)
	}
	if want := `pagerduty: event service.updated 01BRB6ZP4M6T8ZG4X6BP63ZB9O is about a "service", not an incident`; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	var service struct {
		ID            string      `json:"id"`
		Summary       string      `json:"summary"`
		AlertCreation string      `json:"alert_creation"`
		Teams         []Reference `json:"teams"`
	}
	if err := ev.DecodeData(&service); err != nil {
		t.Fatalf("DecodeData: %v", err)
	}
	if service.ID != "PF9KMXH" || service.Summary != "testing service updates" || service.AlertCreation != "create_alerts_and_incidents" || len(service.Teams) != 1 {
		t.Errorf("got service %+v", service)
	}
}

func TestDecodeWebhookRejectsWhatIsNotAV3Webhook(t *testing.T) {
	valid := string(readTestdata(t, "v3_incident.priority_updated.go-pagerduty.json"))
	tests := []struct {
		name  string
		body  string
		limit int64
		kind  error
		want  string
	}{
		{"an empty body", "", 0, ErrInvalid, "the body is empty"},
		{"plain text", "ok", 0, ErrInvalid, "the body is not valid JSON"},
		{"a truncated body", valid[:len(valid)/2], 0, ErrInvalid, "the body is not valid JSON"},
		{"JSON followed by garbage", valid + "}", 0, ErrInvalid, "the body is not valid JSON"},
		{"a JSON array", `[` + valid + `]`, 0, ErrInvalid, "the body is a JSON array, want an object"},
		{"a v2 webhook", `{"messages":[{"event":"incident.trigger","incident":{"id":"PIJ90N7"}}]}`, 0, ErrInvalid, `no "event" object`},
		{"a null event", `{"event":null}`, 0, ErrInvalid, `no "event" object`},
		{"an event that is a string", `{"event":"incident.triggered"}`, 0, ErrInvalid, `field "event" is a JSON string, want an object`},
		{"an event without event_type", `{"event":{"id":"X","resource_type":"incident","data":{}}}`, 0, ErrInvalid, `the event has no "event_type"`},
		{"an occurred_at that is not a time", `{"event":{"event_type":"incident.triggered","occurred_at":"yesterday"}}`, 0, ErrInvalid, `time that is not RFC 3339: "yesterday"`},
		{"a body one byte over the limit", valid, int64(len(valid)) - 1, ErrTooLarge, fmt.Sprintf("larger than %d bytes", len(valid)-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeWebhook(strings.NewReader(tt.body), tt.limit)
			if err == nil {
				t.Fatalf("got event %+v, want an error", ev)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("got error %v, want it to match %v", err, tt.kind)
			}
			if !strings.HasPrefix(err.Error(), "pagerduty: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to start with pagerduty: and say %q", err, tt.want)
			}
		})
	}
}

func TestDecodeWebhookAcceptsAnEventOfAnUnknownType(t *testing.T) {
	ev, err := DecodeWebhook(strings.NewReader(`{"event":{"id":"01PING","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2024-05-14T03:12:09Z","agent":null,"client":null,"data":{"message":"Hello from your friend Pagey!","type":"ping"}},"extra":true}`), 0)
	if err != nil {
		t.Fatalf("DecodeWebhook: %v", err)
	}
	if ev.EventType != "pagey.ping" {
		t.Errorf("got %q, want pagey.ping", ev.EventType)
	}
	if _, err := ev.Incident(); !errors.Is(err, ErrNotIncident) {
		t.Errorf("got %v, want ErrNotIncident", err)
	}
}

func TestDecodeWebhookTakesMaxBytesReaderOverflowAsTooLarge(t *testing.T) {
	body := readTestdata(t, "v3_incident.triggered.json")
	req := httptest.NewRequest(http.MethodPost, "/webhooks/pagerduty", bytes.NewReader(body))
	_, err := DecodeWebhook(http.MaxBytesReader(httptest.NewRecorder(), req.Body, 64), 0)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("got %v, want ErrTooLarge", err)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestDecodeWebhookReturnsReadErrorsAsThemselves(t *testing.T) {
	cause := errors.New("unexpected EOF from proxy")
	_, err := DecodeWebhook(io.MultiReader(strings.NewReader(`{"eve`), failingReader{cause}), 0)
	if !errors.Is(err, cause) || errors.Is(err, ErrInvalid) {
		t.Errorf("got %v, want the read error and not ErrInvalid", err)
	}
}

func TestIncidentRejectsDataThatNamesNoIncident(t *testing.T) {
	tests := []struct {
		name, event, want string
	}{
		{"no data", `{"event_type":"incident.triggered","resource_type":"incident"}`, "event incident.triggered has no data"},
		{"null data", `{"event_type":"incident.triggered","resource_type":"incident","data":null}`, "has no data"},
		{"data that is an array", `{"event_type":"incident.triggered","resource_type":"incident","data":[]}`, "the data of event incident.triggered is a JSON array, want an object"},
		{"an incident without id or title", `{"event_type":"incident.triggered","resource_type":"incident","data":{"type":"incident","status":"triggered"}}`, "has neither an id nor a title"},
		{"an incident with a text number", `{"event_type":"incident.triggered","resource_type":"incident","data":{"type":"incident","id":"P1","number":"two"}}`, `field "number" is a JSON string, want a number`},
		{"a note without its incident", `{"id":"E1","event_type":"incident.annotated","resource_type":"incident","data":{"type":"incident_note","content":"hi"}}`, `the "incident_note" data of event incident.annotated E1 names no incident`},
		{"an incident reference that is a string", `{"event_type":"incident.annotated","resource_type":"incident","data":{"type":"incident_note","incident":"PGR0VU2"}}`, `field "incident" is a JSON string, want an object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeWebhook(strings.NewReader(`{"event":`+tt.event+`}`), 0)
			if err != nil {
				t.Fatalf("DecodeWebhook: %v", err)
			}
			inc, err := ev.Incident()
			if err == nil {
				t.Fatalf("got incident %+v, want an error", inc)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want ErrInvalid saying %q", err, tt.want)
			}
		})
	}
}

func TestAlertFromIncident(t *testing.T) {
	created := mustTime(t, "2024-05-14T03:12:09Z")
	tests := []struct {
		name string
		inc  *Incident
		want runbooks.Alert
	}{
		{
			name: "an incident with a service, urgency and priority gets them as labels",
			inc: &Incident{
				ID: "Q2K4FZ5M0ZP1AB", Title: "[FIRING:1] KubePodCrashLooping payments", Status: "acknowledged", IncidentKey: "8f1b", CreatedAt: created,
				Service: &Reference{Summary: "Checkout (Prometheus)"}, Urgency: "high", Priority: &Reference{Summary: "P2"},
			},
			want: runbooks.Alert{
				Name: "[FIRING:1] KubePodCrashLooping payments", Summary: "[FIRING:1] KubePodCrashLooping payments",
				Labels: map[string]string{"service": "Checkout (Prometheus)", "urgency": "high", "priority": "P2"},
				Status: "firing", StartsAt: created, Fingerprint: "8f1b", Source: "pagerduty", ExternalID: "Q2K4FZ5M0ZP1AB",
			},
		},
		{
			name: "a resolved incident without service or priority has no labels but urgency",
			inc:  &Incident{ID: "PGR0VU2", Title: "A little bump in the road", Status: "resolved", Urgency: "low", Priority: &Reference{}},
			want: runbooks.Alert{
				Name: "A little bump in the road", Summary: "A little bump in the road", Labels: map[string]string{"urgency": "low"},
				Status: "resolved", Source: "pagerduty", ExternalID: "PGR0VU2",
			},
		},
		{
			name: "a partial incident from a note gives the reference's title",
			inc:  &Incident{ID: "PGR0VU2", Type: "incident_reference", Title: "A little bump in the road", Partial: true},
			want: runbooks.Alert{Name: "A little bump in the road", Summary: "A little bump in the road", Source: "pagerduty", ExternalID: "PGR0VU2"},
		},
		{
			name: "a nil incident gives an empty alert from pagerduty",
			want: runbooks.Alert{Source: "pagerduty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AlertFromIncident(tt.inc); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAlertFromTheTriggeredWebhookMatchesByTitleAndService(t *testing.T) {
	ev, err := DecodeWebhook(bytes.NewReader(readTestdata(t, "v3_incident.triggered.json")), 0)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := ev.Incident()
	if err != nil {
		t.Fatal(err)
	}
	got := AlertFromIncident(inc)
	want := runbooks.Alert{
		Name:        "[FIRING:1] KubePodCrashLooping payments (checkout warning)",
		Summary:     "[FIRING:1] KubePodCrashLooping payments (checkout warning)",
		Labels:      map[string]string{"service": "Checkout (Prometheus)", "urgency": "high"},
		Status:      "firing",
		StartsAt:    mustTime(t, "2024-05-14T03:12:09Z"),
		Fingerprint: "8f1bd2b0c6f4e9a3d7c25e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
		Source:      "pagerduty",
		ExternalID:  "Q2K4FZ5M0ZP1AB",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
