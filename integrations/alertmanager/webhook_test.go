package alertmanager

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
	"regexp"
	"slices"
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

// documentedSample turns the format block of Alertmanager's documentation
// into a JSON body: each placeholder becomes a value of its type, comments
// and the "..." line go.
func documentedSample(t testing.TB) []byte {
	t.Helper()
	doc := string(readTestdata(t, "webhook_v4_format.from-docs.md"))
	start := strings.Index(doc, "```\n")
	end := strings.LastIndex(doc, "```")
	if start < 0 || end <= start {
		t.Fatal("no code block in the documented format")
	}
	block := doc[start+4 : end]
	var lines []string
	for _, line := range strings.Split(block, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "..." {
			continue
		}
		lines = append(lines, line)
	}
	s := strings.Join(lines, "\n")
	s = strings.NewReplacer(
		`"<resolved|firing>"`, `"firing"`,
		`"<rfc3339>"`, `"2024-05-14T03:07:09Z"`,
		`<string>`, `"text"`,
		`<int>`, `0`,
		`<object>`, `{"k": "v"}`,
	).Replace(s)
	s = regexp.MustCompile(`,(\s*[\]}])`).ReplaceAllString(s, "$1")
	if !json.Valid([]byte(s)) {
		t.Fatalf("the documented format did not turn into JSON:\n%s", s)
	}
	return []byte(s)
}

func TestDecodeReadsTheDocumentedFormat(t *testing.T) {
	m, err := Decode(bytes.NewReader(documentedSample(t)), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if m.Version != "4" || m.GroupKey != "text" || m.Receiver != "text" || m.ExternalURL != "text" || m.NotificationReason != "text" {
		t.Errorf("got message %+v, want every string field to be \"text\"", m)
	}
	if got, want := len(m.AlertList), 1; got != want {
		t.Fatalf("got %d alerts, want %d", got, want)
	}
	a := m.AlertList[0]
	if a.Status != "firing" || a.GeneratorURL != "text" || a.Fingerprint != "text" || a.Labels["k"] != "v" || a.Annotations["k"] != "v" || a.StartsAt.IsZero() || a.EndsAt.IsZero() {
		t.Errorf("got alert %+v, want every documented field set", a)
	}
}

// TestTypesNameEveryDocumentedField guards against a misspelt JSON tag: a
// field the decoder does not know is silently left zero.
func TestTypesNameEveryDocumentedField(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(documentedSample(t), &doc); err != nil {
		t.Fatal(err)
	}
	tags := func(v any) map[string]bool {
		out := map[string]bool{}
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			out[strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]] = true
		}
		return out
	}
	msgTags, alertTags := tags(Message{}), tags(Alert{})
	for k := range doc {
		if !msgTags[k] {
			t.Errorf("documented field %q has no field in Message", k)
		}
	}
	for k := range doc["alerts"].([]any)[0].(map[string]any) {
		if !alertTags[k] {
			t.Errorf("documented alert field %q has no field in Alert", k)
		}
	}
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestDecodeTurnsAFiringAndAResolvedAlertIntoRunbookAlerts(t *testing.T) {
	m, err := Decode(bytes.NewReader(readTestdata(t, "firing_and_resolved.json")), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if m.Status != "firing" || m.Receiver != "breadcrumb" || m.GroupLabels["namespace"] != "payments" || m.TruncatedAlerts != 0 {
		t.Errorf("got message %+v, want the group's fields", m)
	}
	labels := func(pod string) map[string]string {
		return map[string]string{
			"alertname": "KubePodCrashLooping", "container": "checkout", "namespace": "payments",
			"pod": pod, "prometheus": "monitoring/k8s", "severity": "warning", "job": "kube-state-metrics",
		}
	}
	const runbook = "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"
	const gen = "http://prometheus-k8s-0:9090/graph?g0.expr=max_over_time%28kube_pod_container_status_waiting_reason%5B5m%5D%29+%3E%3D+1&g0.tab=1"
	want := []runbooks.Alert{
		{
			Name:   "KubePodCrashLooping",
			Labels: labels("checkout-7d9f8b6c5-x2x9k"),
			Annotations: map[string]string{
				"description": `Pod payments/checkout-7d9f8b6c5-x2x9k (checkout) is in waiting state (reason: "CrashLoopBackOff").`,
				"runbook_url": runbook,
				"summary":     "Pod is crash looping.",
			},
			Summary:      "Pod is crash looping.",
			Description:  `Pod payments/checkout-7d9f8b6c5-x2x9k (checkout) is in waiting state (reason: "CrashLoopBackOff").`,
			RunbookURL:   runbook,
			Status:       "firing",
			StartsAt:     mustTime(t, "2024-05-14T03:07:09.123Z"),
			GeneratorURL: gen,
			Fingerprint:  "5c3d9e1d2f7a8b01",
			Source:       "alertmanager",
		},
		{
			Name:   "KubePodCrashLooping",
			Labels: labels("checkout-7d9f8b6c5-q8w4z"),
			Annotations: map[string]string{
				"description": `Pod payments/checkout-7d9f8b6c5-q8w4z (checkout) is in waiting state (reason: "CrashLoopBackOff").`,
				"runbook_url": runbook,
				"summary":     "Pod is crash looping.",
			},
			Summary:      "Pod is crash looping.",
			Description:  `Pod payments/checkout-7d9f8b6c5-q8w4z (checkout) is in waiting state (reason: "CrashLoopBackOff").`,
			RunbookURL:   runbook,
			Status:       "resolved",
			StartsAt:     mustTime(t, "2024-05-14T02:41:39.123Z"),
			EndsAt:       mustTime(t, "2024-05-14T03:05:39.123Z"),
			GeneratorURL: gen,
			Fingerprint:  "9a01b7c3e4d2f611",
			Source:       "alertmanager",
		},
	}
	got := m.Alerts()
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("got alerts\n%s\nwant\n%s", gj, wj)
	}
	if !got[0].EndsAt.IsZero() {
		t.Errorf("got EndsAt %v for Alertmanager's 0001-01-01T00:00:00Z, want the zero time", got[0].EndsAt)
	}
}

func TestAlertsPutTheGroupsCommonValuesUnderEachAlertsOwn(t *testing.T) {
	m, err := Decode(bytes.NewReader(readTestdata(t, "several_alerts.json")), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if m.TruncatedAlerts != 2 || m.NotificationReason != "new_alerts" {
		t.Errorf("got truncatedAlerts %d, notification_reason %q; want 2, new_alerts", m.TruncatedAlerts, m.NotificationReason)
	}
	const groupRunbook = "https://github.com/acme/checkout/blob/main/runbooks/checkout.md"
	tests := []struct {
		name, runbook, summary, severity string
	}{
		{"CheckoutHighErrorRate", "https://github.com/acme/checkout/blob/main/runbooks/CheckoutHighErrorRate.md", "Checkout 5xx ratio is 7.3% (threshold 5%)", "critical"},
		{"CheckoutLatencyHigh", groupRunbook, "Checkout p99 latency is 2.4s", "warning"},
		{"CheckoutQueueBacklog", groupRunbook, "1.2k orders waiting in the checkout queue", "warning"},
	}
	got := m.Alerts()
	if len(got) != len(tests) {
		t.Fatalf("got %d alerts, want %d", len(got), len(tests))
	}
	for i, tt := range tests {
		a := got[i]
		if a.Name != tt.name || a.RunbookURL != tt.runbook || a.Summary != tt.summary || a.Labels["severity"] != tt.severity {
			t.Errorf("alert %d: got name %q, runbook %q, summary %q, severity %q; want %q, %q, %q, %q",
				i, a.Name, a.RunbookURL, a.Summary, a.Labels["severity"], tt.name, tt.runbook, tt.summary, tt.severity)
		}
		if a.Service() != "checkout" || a.Labels["team"] != "payments" || a.Annotations["dashboard"] != "https://grafana.acme.internal/d/checkout" {
			t.Errorf("alert %d: got labels %v, annotations %v; want the common ones merged in", i, a.Labels, a.Annotations)
		}
	}
}

func TestAlertsToleratesAlertsWithMissingFields(t *testing.T) {
	m, err := Decode(bytes.NewReader(readTestdata(t, "missing_fields.json")), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	got := m.Alerts()
	want := []runbooks.Alert{
		{Name: "NodeDiskFull", Labels: map[string]string{"alertname": "NodeDiskFull", "instance": "db-3:9100"}, Status: "firing", Source: "alertmanager"},
		{Name: "NodeDiskFull", Labels: map[string]string{"alertname": "NodeDiskFull"}, Annotations: map[string]string{"summary": "  "}, Status: "firing", Source: "alertmanager"},
		{Status: "firing", Source: "alertmanager"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestAlertsReturnsCopiesOfTheMaps(t *testing.T) {
	m := &Message{
		Version:      "4",
		CommonLabels: map[string]string{"team": "payments"},
		AlertList:    []Alert{{Labels: map[string]string{"alertname": "A"}}},
	}
	got := m.Alerts()
	got[0].Labels["team"] = "changed"
	got[0].Labels["alertname"] = "changed"
	if m.CommonLabels["team"] != "payments" || m.AlertList[0].Labels["alertname"] != "A" {
		t.Errorf("changing the result changed the message: %+v", m)
	}
}

func TestAlertsOfANilMessageIsEmpty(t *testing.T) {
	var m *Message
	if got := m.Alerts(); len(got) != 0 {
		t.Errorf("got %v, want no alerts", got)
	}
}

func TestDecodeReadsAGroupOf300Alerts(t *testing.T) {
	const n = 300
	in := Message{Version: "4", Status: "firing", CommonLabels: map[string]string{"alertname": "TargetDown", "job": "node"}}
	for i := range n {
		in.AlertList = append(in.AlertList, Alert{
			Status:       "firing",
			Labels:       map[string]string{"alertname": "TargetDown", "job": "node", "instance": fmt.Sprintf("node-%03d:9100", i)},
			Annotations:  map[string]string{"summary": fmt.Sprintf("node-%03d is down", i)},
			StartsAt:     time.Date(2024, 5, 14, 3, 0, i%60, 0, time.UTC),
			GeneratorURL: "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
			Fingerprint:  fmt.Sprintf("%016x", i),
		})
	}
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("Decode of %d bytes: %v", len(body), err)
	}
	got := m.Alerts()
	if len(got) != n {
		t.Fatalf("got %d alerts, want %d", len(got), n)
	}
	for i, a := range got {
		if want := fmt.Sprintf("%016x", i); a.Fingerprint != want || a.Name != "TargetDown" || a.Summary != fmt.Sprintf("node-%03d is down", i) {
			t.Fatalf("alert %d: got fingerprint %q, name %q, summary %q; want %q, TargetDown, the alert's own", i, a.Fingerprint, a.Name, a.Summary, want)
		}
	}
}

func TestDecodeRejectsWhatIsNotAV4Webhook(t *testing.T) {
	valid := `{"version":"4","status":"firing","alerts":[]}`
	tests := []struct {
		name  string
		body  string
		limit int64
		kind  error
		want  string // in the message
	}{
		{"an empty body", "", 0, ErrInvalid, "empty"},
		{"a blank body", " \n\t", 0, ErrInvalid, "empty"},
		{"plain text", "hello", 0, ErrInvalid, "not valid JSON"},
		{"an HTML page", "<html><body>502 Bad Gateway</body></html>", 0, ErrInvalid, "not valid JSON"},
		{"a truncated body", `{"version":"4","alerts":[{"labels":`, 0, ErrInvalid, "not valid JSON"},
		{"JSON followed by garbage", valid + " trailing", 0, ErrInvalid, "not valid JSON"},
		{"a JSON array", `[{"version":"4"}]`, 0, ErrInvalid, "is a JSON array, want an object"},
		{"a JSON string", `"4"`, 0, ErrInvalid, "is a JSON string, want an object"},
		{"no version", `{"status":"firing","alerts":[]}`, 0, ErrInvalid, `no "version"`},
		{"version 3", `{"version":"3","alerts":[]}`, 0, ErrInvalid, `unsupported webhook version "3", want "4"`},
		{"version 5", `{"version":"5","alerts":[]}`, 0, ErrInvalid, `unsupported webhook version "5"`},
		{"a numeric version", `{"version":4,"alerts":[]}`, 0, ErrInvalid, `field "version" is a JSON number, want a string`},
		{"no alerts array", `{"version":"4","status":"firing"}`, 0, ErrInvalid, `no "alerts" array`},
		{"null alerts", `{"version":"4","alerts":null}`, 0, ErrInvalid, `no "alerts" array`},
		{"alerts as an object", `{"version":"4","alerts":{}}`, 0, ErrInvalid, `"alerts" is a JSON object, want an array`},
		{"a numeric label value", `{"version":"4","alerts":[{"labels":{"port":8080}}]}`, 0, ErrInvalid, `is a JSON number, want a string`},
		{"a startsAt that is not a time", `{"version":"4","alerts":[{"startsAt":"yesterday"}]}`, 0, ErrInvalid, `startsAt "yesterday" is not an RFC 3339 time`},
		{"a numeric endsAt", `{"version":"4","alerts":[{"endsAt":1715656029}]}`, 0, ErrInvalid, `endsAt 1715656029 is not an RFC 3339 time`},
		{"a body one byte over the limit", valid, int64(len(valid)) - 1, ErrTooLarge, fmt.Sprintf("larger than %d bytes", len(valid)-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(strings.NewReader(tt.body), tt.limit)
			if err == nil {
				t.Fatalf("got message %+v, want an error", m)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("got error %v, want it to match %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "alertmanager: ") {
				t.Errorf("got error %q, want it to start with alertmanager: and say %q", err, tt.want)
			}
		})
	}
}

func TestDecodeAcceptsABodyExactlyAtTheLimit(t *testing.T) {
	body := `{"version":"4","alerts":[]}`
	m, err := Decode(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if m.AlertList == nil || len(m.Alerts()) != 0 {
		t.Errorf("got %+v, want an empty, non-nil alerts list", m)
	}
}

func TestDecodeTakesMaxBytesReaderOverflowAsTooLarge(t *testing.T) {
	body := readTestdata(t, "firing_and_resolved.json")
	req := httptest.NewRequest(http.MethodPost, "/webhooks/alertmanager", bytes.NewReader(body))
	r := http.MaxBytesReader(httptest.NewRecorder(), req.Body, 100)
	_, err := Decode(r, 0)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("got %v, want ErrTooLarge", err)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestDecodeReturnsReadErrorsAsThemselves(t *testing.T) {
	cause := errors.New("connection reset by peer")
	_, err := Decode(io.MultiReader(strings.NewReader(`{"vers`), failingReader{cause}), 0)
	if !errors.Is(err, cause) || errors.Is(err, ErrInvalid) {
		t.Errorf("got %v, want the read error and not ErrInvalid", err)
	}
}

func TestDecodeShortensLongEchoedValues(t *testing.T) {
	long := strings.Repeat("é", 100)
	_, err := Decode(strings.NewReader(`{"version":"`+long+`","alerts":[]}`), 0)
	if err == nil || len(err.Error()) > 150 || !strings.Contains(err.Error(), "...") {
		t.Errorf("got %q, want a short message with the value cut", err)
	}
	if !json.Valid([]byte(fmt.Sprintf("%q", err.Error()))) || !strings.ContainsRune(err.Error(), 'é') || strings.ContainsRune(err.Error(), '\uFFFD') {
		t.Errorf("got %q, want the value cut on a character boundary", err)
	}
}

func TestMessageRoundTripsThroughJSON(t *testing.T) {
	m, err := Decode(bytes.NewReader(readTestdata(t, "several_alerts.json")), 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Decode(bytes.NewReader(b), 0)
	if err != nil {
		t.Fatalf("Decode of the re-encoded message: %v", err)
	}
	if !reflect.DeepEqual(again.Alerts(), m.Alerts()) {
		t.Errorf("got %+v after a round trip, want %+v", again.Alerts(), m.Alerts())
	}
	if !slices.Equal(slices.Sorted(mapsKeys(again.CommonLabels)), slices.Sorted(mapsKeys(m.CommonLabels))) {
		t.Errorf("got common labels %v, want %v", again.CommonLabels, m.CommonLabels)
	}
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
