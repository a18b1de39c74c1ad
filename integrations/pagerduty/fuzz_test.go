package pagerduty

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	pd "github.com/PagerDuty/go-pagerduty"
)

func FuzzDecodeWebhook(f *testing.F) {
	for _, name := range []string{
		"v3_incident.priority_updated.docs.json", "v3_incident.priority_updated.go-pagerduty.json",
		"v3_incident.triggered.json", "v3_incident.acknowledged.json", "v3_incident.resolved.json",
		"v3_incident.annotated.json", "v3_service.updated.docs.json",
	} {
		f.Add(readTestdata(f, name))
	}
	for _, name := range []string{"docs_event_data_incident_role_assignment.json", "docs_event_data_incident_conference_bridge.json"} {
		f.Add(envelope("incident.updated", readTestdata(f, name)))
	}
	f.Add([]byte(`{"event":{"event_type":"incident.triggered","data":{"conference_bridge":{"conference_number":{}}}}}`))
	f.Add([]byte(`{"event":{"event_type":"x","data":null}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := DecodeWebhook(bytes.NewReader(body), 1<<16)
		if err != nil {
			if ev != nil {
				t.Fatalf("got an event and an error %v", err)
			}
			return
		}
		if ev.EventType == "" {
			t.Fatal("accepted an event without event_type")
		}
		inc, err := ev.Incident()
		if err != nil {
			if inc != nil || !(errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotIncident)) {
				t.Fatalf("got %v, %v; want nil and a kind", inc, err)
			}
			return
		}
		if a := AlertFromIncident(inc); a.Source != "pagerduty" || a.ExternalID != inc.ID {
			t.Fatalf("got alert %+v from %+v", a, inc)
		}
	})
}

// FuzzAlertFromIncidentAlert feeds alert bodies of any shape, as PagerDuty
// keeps whatever the monitoring tool sent.
func FuzzAlertFromIncidentAlert(f *testing.F) {
	var list pd.ListAlertsResponse
	if err := json.Unmarshal(readTestdata(f, "incident_alerts.Q2K4FZ5M0ZP1AB.json"), &list); err != nil {
		f.Fatal(err)
	}
	for _, a := range list.Alerts {
		b, _ := json.Marshal(a)
		f.Add(b)
	}
	f.Add([]byte(`{"body":{"details":{"firing":"Labels:\n - a = b\nAnnotations:\n - c = d\n e\nSource: x"}}}`))
	f.Add([]byte(`{"body":{"cef_details":{"details":{"custom_details":{"labels":"{\"a\":1}"}}},"contexts":[{"href":"runbook"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a pd.IncidentAlert
		if json.Unmarshal(b, &a) != nil {
			return
		}
		got := AlertFromIncidentAlert(a)
		if got.Source != "pagerduty" || got.ExternalID != a.ID {
			t.Fatalf("got %+v", got)
		}
	})
}
