package pagerduty

import (
	"encoding/json"
	"reflect"
	"testing"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// incidentAlert builds a go-pagerduty alert the way the client decodes one.
func incidentAlert(t *testing.T, js string) pd.IncidentAlert {
	t.Helper()
	var a pd.IncidentAlert
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatalf("bad test alert: %v", err)
	}
	return a
}

func TestAlertFromIncidentAlert(t *testing.T) {
	tests := []struct {
		name string
		json string
		want runbooks.Alert
	}{
		{
			name: "an alert without a body is named after its summary and gets its severity and service",
			json: `{"id":"Q1","summary":"Something broke","status":"triggered","created_at":"2024-05-14T03:12:09Z","severity":"critical","service":{"summary":"Checkout"}}`,
			want: runbooks.Alert{
				Name: "Something broke", Summary: "Something broke", Labels: map[string]string{"severity": "critical", "service": "Checkout"},
				Status: "firing", StartsAt: mustTime(t, "2024-05-14T03:12:09Z"), Source: "pagerduty", ExternalID: "Q1",
			},
		},
		{
			name: "labels and annotations sent as JSON text are read as maps",
			json: `{"id":"Q2","summary":"s","body":{"details":{"labels":"{\"alertname\":\"NodeDiskFull\",\"job\":\"node\"}","annotations":"{\"runbook\":\"https://wiki/disk\"}"}}}`,
			want: runbooks.Alert{
				Name: "NodeDiskFull", Summary: "s", Labels: map[string]string{"alertname": "NodeDiskFull", "job": "node"},
				Annotations: map[string]string{"runbook": "https://wiki/disk"}, RunbookURL: "https://wiki/disk", Source: "pagerduty", ExternalID: "Q2",
			},
		},
		{
			name: "labels text that is not JSON is kept as an annotation",
			json: `{"id":"Q3","summary":"s","body":{"details":{"labels":"map[alertname:X]","alertname":"X"}}}`,
			want: runbooks.Alert{
				Name: "X", Summary: "s", Labels: map[string]string{"alertname": "X"}, Annotations: map[string]string{"labels": "map[alertname:X]"},
				Source: "pagerduty", ExternalID: "Q3",
			},
		},
		{
			name: "custom_details nested in the CEF details are read",
			json: `{"id":"Q4","summary":"s","body":{"cef_details":{"dedup_key":"dk-1","details":{"custom_details":{"alertname":"HighLatency","cluster":"prod","runbook":"https://runbooks.example.com/high-latency","num_firing":"1"}}}}}`,
			want: runbooks.Alert{
				Name: "HighLatency", Summary: "s", Labels: map[string]string{"alertname": "HighLatency", "cluster": "prod"},
				Annotations: map[string]string{"runbook": "https://runbooks.example.com/high-latency", "num_firing": "1"},
				RunbookURL:  "https://runbooks.example.com/high-latency", Fingerprint: "dk-1", Source: "pagerduty", ExternalID: "Q4",
			},
		},
		{
			name: "details sent as one text become the description",
			json: `{"id":"Q5","summary":"Email: disk full","body":{"type":"alert_body","details":"  The disk on db-3 is full.\n"}}`,
			want: runbooks.Alert{
				Name: "Email: disk full", Summary: "Email: disk full", Annotations: map[string]string{"details": "The disk on db-3 is full."},
				Description: "The disk on db-3 is full.", Source: "pagerduty", ExternalID: "Q5",
			},
		},
		{
			name: "numbers and booleans become text, objects and arrays are left out",
			json: `{"id":"Q6","summary":"s","body":{"details":{"alertname":"A","replicas":3,"ratio":0.25,"canary":true,"pods":["a","b"],"extra":{"k":"v"},"empty":"","nothing":null}}}`,
			want: runbooks.Alert{
				Name: "A", Summary: "s", Labels: map[string]string{"alertname": "A", "replicas": "3", "ratio": "0.25", "canary": "true"},
				Source: "pagerduty", ExternalID: "Q6",
			},
		},
		{
			name: "the resolved text is read when nothing fires",
			json: `{"id":"Q7","summary":"[RESOLVED] TargetDown","status":"resolved","alert_key":"ak-7","body":{"details":{"firing":"","resolved":"Labels:\n - alertname = TargetDown\n - job = node\nAnnotations:\n - runbook_url = https://r/TargetDown\nSource: http://prom/graph\n","num_firing":"0","num_resolved":"1"}}}`,
			want: runbooks.Alert{
				Name: "TargetDown", Summary: "[RESOLVED] TargetDown", Labels: map[string]string{"alertname": "TargetDown", "job": "node"},
				Annotations: map[string]string{
					"resolved":   "Labels:\n - alertname = TargetDown\n - job = node\nAnnotations:\n - runbook_url = https://r/TargetDown\nSource: http://prom/graph\n",
					"num_firing": "0", "num_resolved": "1", "runbook_url": "https://r/TargetDown",
				},
				RunbookURL: "https://r/TargetDown", Status: "resolved", GeneratorURL: "http://prom/graph", Fingerprint: "ak-7", Source: "pagerduty", ExternalID: "Q7",
			},
		},
		{
			name: "the body's incident_key is the last fingerprint to fall back on",
			json: `{"id":"Q8","summary":"s","body":{"incident_key":"ik-8"}}`,
			want: runbooks.Alert{Name: "s", Summary: "s", Fingerprint: "ik-8", Source: "pagerduty", ExternalID: "Q8"},
		},
		{
			name: "a runbook link in the CEF contexts is the runbook when no annotation names one",
			json: `{"id":"Q9","summary":"s","body":{"cef_details":{"contexts":[{"type":"image","src":"https://runbook.png"},{"type":"link","href":"https://grafana/d/x","text":"Dashboard"},{"type":"link","href":"https://github.com/acme/ops/blob/main/runbooks/x.md"}]}}}`,
			want: runbooks.Alert{Name: "s", Summary: "s", RunbookURL: "https://github.com/acme/ops/blob/main/runbooks/x.md", Source: "pagerduty", ExternalID: "Q9"},
		},
		{
			name: "a job label keeps the PagerDuty service out of the labels",
			json: `{"id":"Q10","summary":"s","service":{"summary":"Infra (Prometheus)"},"body":{"details":{"alertname":"TargetDown","job":"node-exporter","severity":"warning"}},"severity":"critical"}`,
			want: runbooks.Alert{
				Name: "TargetDown", Summary: "s", Labels: map[string]string{"alertname": "TargetDown", "job": "node-exporter", "severity": "warning"},
				Source: "pagerduty", ExternalID: "Q10",
			},
		},
		{
			name: "nested maps win over flat keys, flat keys over the text",
			json: `{"id":"Q11","summary":"s","body":{"details":{"labels":{"severity":"critical"},"severity":"warning","team":"flat","firing":"Labels:\n - team = text\n - zone = eu-1\n"}}}`,
			want: runbooks.Alert{
				Name: "s", Summary: "s", Labels: map[string]string{"severity": "critical", "team": "flat", "zone": "eu-1"},
				Annotations: map[string]string{"firing": "Labels:\n - team = text\n - zone = eu-1\n"}, Source: "pagerduty", ExternalID: "Q11",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AlertFromIncidentAlert(incidentAlert(t, tt.json))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseAlertText(t *testing.T) {
	tests := []struct {
		name                string
		text                string
		labels, annotations map[string]string
		source              string
	}{
		{
			name: "empty text gives nothing",
			text: "",
		},
		{
			name:        "only the first of several alerts is read",
			text:        "Labels:\n - alertname = A\n - pod = a-1\nAnnotations:\n - summary = first\nSource: http://p/1\nLabels:\n - alertname = A\n - pod = a-2\nAnnotations:\n - summary = second\nSource: http://p/2\n",
			labels:      map[string]string{"alertname": "A", "pod": "a-1"},
			annotations: map[string]string{"summary": "first"},
			source:      "http://p/1",
		},
		{
			name:        "older templates with blank lines and Grafana's Value and Silence lines are read",
			text:        "\nValue: B=42\nLabels:\n - alertname = DiskFull\n\nAnnotations:\n - description = Disk is full.\n\n   Free space now.\n\nSource: http://grafana/alerting/1\nSilence: http://grafana/silence\n",
			labels:      map[string]string{"alertname": "DiskFull"},
			annotations: map[string]string{"description": "Disk is full.\n\n   Free space now."},
			source:      "http://grafana/alerting/1",
		},
		{
			name:        "a value holding ' = ' keeps it, a malformed line is skipped",
			text:        "Labels:\n - alertname = A\n - query = up = 0\n - no equals sign\n - bad key = x\nAnnotations:\n - summary = a = b\r\n",
			labels:      map[string]string{"alertname": "A", "query": "up = 0"},
			annotations: map[string]string{"summary": "a = b"},
		},
		{
			name: "text of another shape gives nothing",
			text: "CPU is at 99% on db-3\nplease look",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels, annotations, source := parseAlertText(tt.text)
			if len(labels)+len(tt.labels) > 0 && !reflect.DeepEqual(labels, tt.labels) {
				t.Errorf("got labels %q, want %q", labels, tt.labels)
			}
			if len(annotations)+len(tt.annotations) > 0 && !reflect.DeepEqual(annotations, tt.annotations) {
				t.Errorf("got annotations %q, want %q", annotations, tt.annotations)
			}
			if source != tt.source {
				t.Errorf("got source %q, want %q", source, tt.source)
			}
		})
	}
}
