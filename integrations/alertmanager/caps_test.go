package alertmanager

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// TestAlertContentIsCappedOnArrivalThroughTheWebhook answers a security
// review's finding: twenty notifications, each adding an alert with a
// 1 MB label, made one 20 MB incident, and a large summary became the
// title. Through real HTTP, the inbox, the Worker and the Processor, the
// incident now keeps each alert with its values cut, and says so on its
// timeline.
func TestAlertContentIsCappedOnArrivalThroughTheWebhook(t *testing.T) {
	p := newPipeline(t, boltBackend(t), false)
	label := strings.Repeat("l", 1<<20)
	summary := strings.Repeat("s", 1<<20)
	for i := range 20 {
		a := checkoutAlert(fmt.Sprintf("host-%02d:80", i), time.Time{})
		a.Labels["description"] = label
		delete(a.Annotations, "summary")
		m := notification(checkoutGroup, a)
		// The alert takes the group's summary, which also names the
		// group's incident.
		m.CommonAnnotations["summary"] = summary
		b := body(t, m)
		if len(b) > DefaultMaxBody {
			t.Fatalf("the test body is %d bytes, over the webhook's %d", len(b), DefaultMaxBody)
		}
		if r := p.postAs(t, "Bearer "+testToken, b); r.status != 200 {
			t.Fatalf("notification %d: got %d %q, want 200", i, r.status, r.body)
		}
		p.settle(t, uint64(i+1))
	}
	list := p.incidents(t)
	if len(list) != 1 {
		t.Fatalf("got %d incidents, want 1", len(list))
	}
	inc := list[0]
	data, err := json.Marshal(inc)
	if err != nil {
		t.Fatal(err)
	}
	// Twenty alerts of a 4 KiB label and a 4 KiB summary: about 170 KB,
	// where 40 MB arrived.
	if len(inc.Alerts) != 20 || len(data) > 20*(incidents.MaxValueBytes+incidents.MaxSummaryBytes+1024) {
		t.Errorf("got %d alerts in %d bytes of JSON, want 20 in at most %d", len(inc.Alerts), len(data), 20*(incidents.MaxValueBytes+incidents.MaxSummaryBytes+1024))
	}
	if n := utf8.RuneCountInString(inc.Title); n > incidents.MaxTitleRunes || !strings.HasSuffix(inc.Title, "…") {
		t.Errorf("got a title of %d characters, want at most %d, ending in …", n, incidents.MaxTitleRunes)
	}
	for _, st := range inc.Alerts {
		if d := st.Labels["description"]; len(d) > incidents.MaxValueBytes || !strings.HasSuffix(d, "…") {
			t.Fatalf("alert %s keeps a description label of %d bytes", st.Fingerprint, len(d))
		}
	}
	declared, fired := 0, 0
	for _, e := range p.timeline(t, inc.ID) {
		switch {
		case e.Type == incidents.EventDeclared && strings.Contains(e.Data["cut"], "title cut from 1,048,576 bytes to 200 characters"):
			declared++
		case e.Type == incidents.EventAlertFired && strings.Contains(e.Data["cut"], "label description cut from 1,048,576 bytes to 4,096") &&
			strings.Contains(e.Data["cut"], "summary cut from 1,048,576 bytes to 4,096") && len(e.Text) <= incidents.MaxSummaryBytes:
			fired++
		}
	}
	if declared != 1 || fired != 20 {
		t.Errorf("the timeline says the title was cut %d times and the alerts %d; want 1 and 20", declared, fired)
	}
}
