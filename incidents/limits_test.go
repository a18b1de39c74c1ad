package incidents_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// These tests answer a security review's finding: twenty posts, each
// adding an alert with a 1 MB label, made one 20 MB incident, and a 3 MB
// summary became a 3 MB title.

const mib = 1 << 20

// keeper is an Enricher that keeps the alerts it is given.
type keeper struct {
	mu     sync.Mutex
	alerts []runbooks.Alert
}

func (k *keeper) Enrich(_ context.Context, _ string, alerts []runbooks.Alert) incidents.Enrichment {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.alerts = append(k.alerts, alerts...)
	return incidents.Enrichment{}
}

func newCapService(t *testing.T) (*incidents.Service, *keeper) {
	t.Helper()
	k := &keeper{}
	n := 0
	svc := incidents.NewService(openStore(t), incidents.Options{Now: newClock().Now, Enricher: k, NewID: func(time.Time) string {
		n++
		return fmt.Sprintf("INC-%d", n)
	}})
	return svc, k
}

func jsonLen(t *testing.T, v any) int {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// firedEvents returns the incident's alert.fired events.
func firedEvents(t *testing.T, svc *incidents.Service, id string) []incidents.Event {
	t.Helper()
	events, err := svc.Timeline(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []incidents.Event
	for _, e := range events {
		if e.Type == incidents.EventAlertFired {
			out = append(out, e)
		}
	}
	return out
}

// cutValue checks that v was cut to at most n bytes of UTF-8 ending in
// "…".
func cutValue(t *testing.T, what, v string, n int) {
	t.Helper()
	if len(v) > n || !strings.HasSuffix(v, "…") || !utf8.ValidString(v) {
		t.Errorf("%s: got %d bytes ending %q (valid UTF-8: %v), want at most %d ending in …", what, len(v), v[max(0, len(v)-8):], utf8.ValidString(v), n)
	}
}

func TestAlertContentIsCappedOnArrival(t *testing.T) {
	big := strings.Repeat("x", mib)
	tests := []struct {
		name  string
		alert func(a *runbooks.Alert)
		// check looks at the stored incident, the alert the enricher was
		// given, and the alert's event.
		check func(t *testing.T, inc *incidents.Incident, given runbooks.Alert, fired incidents.Event)
	}{
		{"a 1 MB label value", func(a *runbooks.Alert) { a.Labels["description"] = big },
			func(t *testing.T, inc *incidents.Incident, given runbooks.Alert, fired incidents.Event) {
				cutValue(t, "the stored label", inc.Alerts[0].Labels["description"], incidents.MaxValueBytes)
				cutValue(t, "the label the enricher read", given.Labels["description"], incidents.MaxValueBytes)
				if want := "label description cut from 1,048,576 bytes to 4,096"; !strings.Contains(fired.Data["cut"], want) {
					t.Errorf("the alert's event says %q, want it to say %q", fired.Data["cut"], want)
				}
			}},
		{"a 1 MB value of many-byte characters is cut between two", func(a *runbooks.Alert) { a.Labels["pod"] = strings.Repeat("é", mib/2) },
			func(t *testing.T, inc *incidents.Incident, _ runbooks.Alert, _ incidents.Event) {
				cutValue(t, "the stored label", inc.Alerts[0].Labels["pod"], incidents.MaxValueBytes)
			}},
		{"a 3 MB summary becomes a title", func(a *runbooks.Alert) { a.Summary = strings.Repeat("s", 3*mib) },
			func(t *testing.T, inc *incidents.Incident, _ runbooks.Alert, fired incidents.Event) {
				if n := utf8.RuneCountInString(inc.Title); n > incidents.MaxTitleRunes || !strings.HasSuffix(inc.Title, "…") {
					t.Errorf("got a title of %d characters, want at most %d ending in …", n, incidents.MaxTitleRunes)
				}
				cutValue(t, "the stored summary", inc.Alerts[0].Summary, incidents.MaxSummaryBytes)
				cutValue(t, "the event's text", fired.Text, incidents.MaxSummaryBytes)
				if want := "summary cut from 3,145,728 bytes to 4,096"; !strings.Contains(fired.Data["cut"], want) {
					t.Errorf("the alert's event says %q, want it to say %q", fired.Data["cut"], want)
				}
			}},
		{"500 labels", func(a *runbooks.Alert) {
			for i := range 500 {
				a.Labels[fmt.Sprintf("l%03d", i)] = "v"
			}
		}, func(t *testing.T, inc *incidents.Incident, given runbooks.Alert, fired incidents.Event) {
			labels := inc.Alerts[0].Labels
			if len(labels) != incidents.MaxLabels || len(given.Labels) != incidents.MaxLabels {
				t.Fatalf("kept %d labels, gave the enricher %d, want %d", len(labels), len(given.Labels), incidents.MaxLabels)
			}
			// The well-known ones first, then the others by name.
			for _, k := range []string{"alertname", "severity", "instance", "l000", "l060"} {
				if _, ok := labels[k]; !ok {
					t.Errorf("label %s is not kept; got %d labels", k, len(labels))
				}
			}
			if _, ok := labels["l061"]; ok {
				t.Errorf("label l061 is kept over the well-known ones")
			}
			if want := "439 of 503 labels left out, over the 64 an alert keeps"; !strings.Contains(fired.Data["cut"], want) {
				t.Errorf("the alert's event says %q, want it to say %q", fired.Data["cut"], want)
			}
		}},
		{"500 annotations", func(a *runbooks.Alert) {
			a.Annotations = map[string]string{"summary": "disk full"}
			for i := range 500 {
				a.Annotations[fmt.Sprintf("a%03d", i)] = "v"
			}
		}, func(t *testing.T, _ *incidents.Incident, given runbooks.Alert, fired incidents.Event) {
			if len(given.Annotations) != incidents.MaxAnnotations || given.Annotations["summary"] != "disk full" {
				t.Errorf("gave the enricher %d annotations (summary %q), want %d with the summary", len(given.Annotations), given.Annotations["summary"], incidents.MaxAnnotations)
			}
			if !strings.Contains(fired.Data["cut"], "437 of 501 annotations left out") {
				t.Errorf("the alert's event says %q, want it to count the annotations left out", fired.Data["cut"])
			}
		}},
		{"a 1 KB label name", func(a *runbooks.Alert) { a.Labels[strings.Repeat("n", 1024)] = "v" },
			func(t *testing.T, inc *incidents.Incident, _ runbooks.Alert, fired incidents.Event) {
				for k := range inc.Alerts[0].Labels {
					if len(k) > incidents.MaxNameBytes {
						t.Errorf("kept a label name of %d bytes", len(k))
					}
				}
				if !strings.Contains(fired.Data["cut"], "a label name cut from 1,024 bytes to 256") {
					t.Errorf("the alert's event says %q, want it to say the name was cut", fired.Data["cut"])
				}
			}},
		{"a 1 MB generator URL", func(a *runbooks.Alert) { a.GeneratorURL = "https://prometheus.example/graph?g0.expr=" + big },
			func(t *testing.T, inc *incidents.Incident, _ runbooks.Alert, fired incidents.Event) {
				if inc.Alerts[0].GeneratorURL != "" {
					t.Errorf("kept a generator URL of %d bytes; a URL cut short leads nowhere", len(inc.Alerts[0].GeneratorURL))
				}
				if !strings.Contains(fired.Data["cut"], "the generator URL of 1,048,617 bytes left out") {
					t.Errorf("the alert's event says %q, want it to say the URL was left out", fired.Data["cut"])
				}
			}},
		{"a 1 MB fingerprint", func(a *runbooks.Alert) { a.Fingerprint = big },
			func(t *testing.T, inc *incidents.Incident, _ runbooks.Alert, fired incidents.Event) {
				if fp := inc.Alerts[0].Fingerprint; !strings.HasPrefix(fp, "sha256:") || fired.Data["fingerprint"] != fp {
					t.Errorf("got fingerprint %.20q (the event's %.20q), want its SHA-256", fp, fired.Data["fingerprint"])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, k := newCapService(t)
			a := alert("a", "firing")
			a.Labels["severity"] = "critical"
			tt.alert(&a)
			res, err := svc.ReportAlerts(ctx, group(a), incidents.Action{Key: "d1"})
			if err != nil {
				t.Fatalf("the alert was refused: %v", err)
			}
			inc, err := svc.Get(ctx, res.Incident.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(inc.Alerts) != 1 || inc.Alerts[0].Labels["alertname"] != "DiskFull" || len(k.alerts) != 1 {
				t.Fatalf("got %d alerts (%v), the enricher %d, want the one alert kept", len(inc.Alerts), inc.Alerts, len(k.alerts))
			}
			if n := jsonLen(t, inc); n > 64<<10 {
				t.Errorf("the incident's JSON is %d bytes, want it small", n)
			}
			fired := firedEvents(t, svc, inc.ID)
			if len(fired) != 1 {
				t.Fatalf("got %d alert.fired events, want 1", len(fired))
			}
			if n := jsonLen(t, fired[0]); n > 16<<10 {
				t.Errorf("the alert's event is %d bytes, want it small", n)
			}
			tt.check(t, inc, k.alerts[0], fired[0])
		})
	}
}

func TestAnAlertWithinTheCapsIsKeptAsItCame(t *testing.T) {
	svc, k := newCapService(t)
	a := alert("a", "firing")
	a.Labels["description"] = strings.Repeat("x", incidents.MaxValueBytes)
	a.Summary = strings.Repeat("é", incidents.MaxSummaryBytes/2)
	res, err := svc.ReportAlerts(ctx, group(a), incidents.Action{Key: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Incident.Alerts[0]
	if st.Labels["description"] != a.Labels["description"] || st.Summary != a.Summary || k.alerts[0].Labels["description"] != a.Labels["description"] {
		t.Errorf("a label and a summary at their caps were changed")
	}
	if cut := firedEvents(t, svc, res.Incident.ID)[0].Data["cut"]; cut != "" {
		t.Errorf("the alert's event says %q was cut, want nothing", cut)
	}
}

func TestTitlesAreCappedHoweverTheIncidentOpens(t *testing.T) {
	long := strings.Repeat("t", 3*mib)
	tests := []struct {
		name string
		open func(svc *incidents.Service) (*incidents.Incident, error)
	}{
		{"declared, as in Slack or the console", func(svc *incidents.Service) (*incidents.Incident, error) {
			inc, _, err := svc.Declare(ctx, incidents.Declaration{Title: long, Summary: long, Service: long, Source: "slack"}, incidents.Action{Actor: "U1"})
			return inc, err
		}},
		{"the title a sender gives its group, as PagerDuty's incident title", func(svc *incidents.Service) (*incidents.Incident, error) {
			g := group(alert("a", "firing"))
			g.Title, g.Service = long, long
			res, err := svc.ReportAlerts(ctx, g, incidents.Action{})
			return res.Incident, err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _ := newCapService(t)
			inc, err := tt.open(svc)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if n := utf8.RuneCountInString(inc.Title); n != incidents.MaxTitleRunes || !strings.HasSuffix(inc.Title, "…") {
				t.Errorf("got a title of %d characters, want %d ending in …", n, incidents.MaxTitleRunes)
			}
			if len(inc.Summary) > incidents.MaxSummaryBytes || len(inc.Service) > incidents.MaxValueBytes {
				t.Errorf("got a summary of %d bytes and a service of %d, want at most %d and %d", len(inc.Summary), len(inc.Service), incidents.MaxSummaryBytes, incidents.MaxValueBytes)
			}
			events, err := svc.Timeline(ctx, inc.ID, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			if e := events[0]; e.Type != incidents.EventDeclared || e.Text != inc.Title || !strings.Contains(e.Data["cut"], "title cut from 3,145,728 bytes to 200 characters") {
				t.Errorf("the declaration's event: %s %.20q, cut %q; want the title and what was cut", e.Type, e.Text, e.Data["cut"])
			}
		})
	}
	if got := incidents.CapTitle("Disk full"); got != "Disk full" {
		t.Errorf("CapTitle changed a short title to %q", got)
	}
}

// bigAlert is an alert whose labels are all 1 MB: at its caps, it takes
// MaxLabels values of MaxValueBytes.
func bigAlert(n int, value string) runbooks.Alert {
	a := alert(fmt.Sprintf("big-%02d", n), "firing")
	for _, k := range []string{"severity", "service", "job", "namespace", "cluster", "team"} {
		a.Labels[k] = value
	}
	for i := range incidents.MaxLabels {
		a.Labels[fmt.Sprintf("l%02d", i)] = value
	}
	a.Summary = value
	return a
}

func TestAnIncidentFedTwentyLargeAlertsStaysUnderItsSizeCap(t *testing.T) {
	t.Run("twenty reports of an alert with a 1 MB label", func(t *testing.T) {
		svc, _ := newCapService(t)
		var id string
		for i := range 20 {
			a := alert(fmt.Sprintf("host-%02d", i), "firing")
			a.Labels["description"] = strings.Repeat("x", mib)
			res, err := svc.ReportAlerts(ctx, group(a), incidents.Action{Key: fmt.Sprint("d", i)})
			if err != nil {
				t.Fatalf("report %d: %v", i, err)
			}
			id = res.Incident.ID
		}
		inc, err := svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// 20 alerts of a 4 KiB label and a few small ones: about 90 KB,
		// where 20 MB arrived.
		if n := jsonLen(t, inc); len(inc.Alerts) != 20 || n > 20*(incidents.MaxValueBytes+1024) {
			t.Errorf("got %d alerts in %d bytes of JSON, want all 20 in at most %d", len(inc.Alerts), n, 20*(incidents.MaxValueBytes+1024))
		}
	})

	t.Run("twenty reports of an alert whose 70 labels are 1 MB each", func(t *testing.T) {
		svc, _ := newCapService(t)
		value := strings.Repeat("v", mib)
		var id string
		for i := range 20 {
			res, err := svc.ReportAlerts(ctx, group(bigAlert(i, value)), incidents.Action{Key: fmt.Sprint("d", i)})
			if err != nil {
				t.Fatalf("report %d: %v", i, err)
			}
			id = res.Incident.ID
			if n := jsonLen(t, res.Incident); n > incidents.MaxIncidentBytes {
				t.Fatalf("after report %d the incident's JSON is %d bytes, over %d", i, n, incidents.MaxIncidentBytes)
			}
		}
		inc, err := svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		shrunk, counted := 0, 0
		for _, e := range firedEvents(t, svc, id) {
			if strings.Contains(e.Data["cut"], "kept without its summary") {
				shrunk++
			}
			if strings.Contains(e.Text, "counted here only") {
				if !strings.Contains(e.Text, "size cap of 2,097,152 bytes") {
					t.Errorf("an event counts alerts with %q, want it to name the size cap", e.Text)
				}
				var n int
				fmt.Sscan(e.Data["dropped"], &n)
				counted += n
			}
		}
		t.Logf("%d alerts kept in %d bytes, %d of them shrunk; %d counted on the timeline", len(inc.Alerts), jsonLen(t, inc), shrunk, counted)
		if shrunk == 0 || counted == 0 || len(inc.Alerts)+counted != 20 {
			t.Errorf("got %d alerts kept (%d of them shrunk) and %d counted on the timeline; want some shrunk, some counted, 20 in all", len(inc.Alerts), shrunk, counted)
		}
		for _, st := range inc.Alerts {
			if st.Summary == "" && len(st.Labels) > 8 {
				t.Errorf("alert %s was shrunk but kept %d labels", st.Fingerprint, len(st.Labels))
			}
		}

		// Resolving every alert, and reporting them again, keeps it under
		// the cap.
		var all []runbooks.Alert
		for i := range 20 {
			a := bigAlert(i, value)
			a.Status, a.EndsAt = "resolved", a.StartsAt.Add(time.Hour)
			all = append(all, a)
		}
		res, err := svc.ReportAlerts(ctx, group(all...), incidents.Action{Key: "resolved"})
		if err != nil {
			t.Fatal(err)
		}
		if n := jsonLen(t, res.Incident); n > incidents.MaxIncidentBytes || res.Resolved != len(inc.Alerts) {
			t.Errorf("after the resolutions: %d bytes, %d resolved; want at most %d bytes, %d resolved", n, res.Resolved, incidents.MaxIncidentBytes, len(inc.Alerts))
		}
		refired := make([]runbooks.Alert, 0, 20)
		for i := range 20 {
			a := bigAlert(i, value)
			a.StartsAt = a.StartsAt.Add(24 * time.Hour)
			refired = append(refired, a)
		}
		res, err = svc.ReportAlerts(ctx, group(refired...), incidents.Action{Key: "refired"})
		if err != nil {
			t.Fatal(err)
		}
		if n := jsonLen(t, res.Incident); n > incidents.MaxIncidentBytes {
			t.Errorf("after the alerts fired again: %d bytes, over %d", n, incidents.MaxIncidentBytes)
		}
	})
}

func TestIncidentsStoredBeforeTheCapsAreCappedWhenRead(t *testing.T) {
	st := openStore(t)
	big := strings.Repeat("x", 3*mib)
	// As the finding's incident was: a 3 MB title, and alerts whose
	// labels, even cut to their caps, take it over MaxIncidentBytes.
	old := &incidents.Incident{ID: "INC-OLD", Title: big, Summary: big, Status: incidents.StatusTriggered, Source: "alertmanager",
		CreatedAt: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)}
	for i := range 20 {
		labels := map[string]string{"alertname": "DiskFull", "description": big[:mib]}
		for j := range 80 {
			labels[fmt.Sprintf("l%02d", j)] = big[:incidents.MaxValueBytes]
		}
		old.Alerts = append(old.Alerts, incidents.AlertState{Name: "DiskFull", Fingerprint: fmt.Sprint("fp", i), Status: "firing", Labels: labels, Summary: big[:64<<10]})
	}
	if err := st.Create(ctx, old, []incidents.Event{{Key: "k", Type: incidents.EventAlertFired, At: old.CreatedAt, Text: big,
		Data: map[string]string{"alert": big}}}); err != nil {
		t.Fatal(err)
	}
	stored, err := st.Get(ctx, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	before := jsonLen(t, stored)
	capped := incidents.CapStored(stored)
	if n := jsonLen(t, capped); n > incidents.MaxIncidentBytes || len(capped.Alerts) == 0 || utf8.RuneCountInString(capped.Title) > incidents.MaxTitleRunes {
		t.Errorf("capped on read: %d bytes (from %d) with %d alerts, a title of %d characters; want at most %d bytes, some alerts, %d characters",
			n, before, len(capped.Alerts), utf8.RuneCountInString(capped.Title), incidents.MaxIncidentBytes, incidents.MaxTitleRunes)
	}
	if jsonLen(t, stored) != before {
		t.Errorf("CapStored changed the incident it was given")
	}
	for _, a := range capped.Alerts {
		if len(a.Labels) > incidents.MaxLabels || len(a.Summary) > incidents.MaxSummaryBytes {
			t.Errorf("alert %s kept %d labels and a summary of %d bytes", a.Fingerprint, len(a.Labels), len(a.Summary))
		}
	}
	events, err := st.Events(ctx, old.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := incidents.CapStoredEvent(events[0])
	if len(e.Text) > incidents.MaxSummaryBytes || len(e.Data["alert"]) > incidents.MaxValueBytes || len(events[0].Data["alert"]) != 3*mib {
		t.Errorf("capped on read: an event of %d bytes of text and %d of alert name (the stored one: %d); want at most %d and %d, the stored one unchanged",
			len(e.Text), len(e.Data["alert"]), len(events[0].Data["alert"]), incidents.MaxSummaryBytes, incidents.MaxValueBytes)
	}

	small := declare(t, newCapServiceOver(t, st), 1)
	if incidents.CapStored(small) != small {
		t.Errorf("CapStored copied an incident within the caps")
	}
}

func newCapServiceOver(t *testing.T, st incidents.Store) *incidents.Service {
	t.Helper()
	return incidents.NewService(st, incidents.Options{Now: newClock().Now})
}

// A group key made of many labels can be longer than a store takes as a
// key (bbolt refuses one over 32 KiB): it is kept hashed, and the group's
// later notifications still find their incident.
func TestAVeryLongGroupKeyStillMakesOneIncident(t *testing.T) {
	svc, _ := newCapService(t)
	key := "{}:{" + strings.Repeat(`label="value",`, 4000) + "}"
	group := func(status string) incidents.AlertGroup {
		return incidents.AlertGroup{Refs: map[string]string{incidents.RefAlertmanagerGroup: key}, Title: "Long group", Source: "alertmanager",
			Alerts: []runbooks.Alert{{Name: "A", Status: status, Fingerprint: "f1", StartsAt: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}}}
	}
	first, err := svc.ReportAlerts(context.Background(), group("firing"), incidents.Action{})
	if err != nil {
		t.Fatalf("a %d-byte group key: %v", len(key), err)
	}
	again, err := svc.ReportAlerts(context.Background(), group("resolved"), incidents.Action{})
	if err != nil || again.Incident == nil || again.Incident.ID != first.Incident.ID || again.Resolved != 1 {
		t.Fatalf("the group's next notification: %+v, %v; want the same incident, its alert resolved", again, err)
	}
	if got, err := svc.FindByRef(context.Background(), incidents.RefAlertmanagerGroup, key); err != nil || got.ID != first.Incident.ID {
		t.Errorf("FindByRef with the long key: %v, %v", got, err)
	}
	if v := first.Incident.Refs[incidents.RefAlertmanagerGroup]; len(v) > incidents.MaxRefBytes {
		t.Errorf("the stored reference is %d bytes, over %d", len(v), incidents.MaxRefBytes)
	}
}
