package alertmanager

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
)

const checkoutGroup = `{}/{severity="critical"}:{alertname="CheckoutDown", service="checkout"}`

func checkoutAlert(instance string, ends time.Time) Alert {
	return testAlert("CheckoutDown", instance, t0, ends, map[string]string{"service": "checkout", "severity": "critical"})
}

func handle(t *testing.T, p *Processor, m *Message) {
	t.Helper()
	if err := p.HandleDelivery(context.Background(), delivery(t, m)); err != nil {
		t.Fatalf("HandleDelivery: %v", err)
	}
}

func TestProcessorOpensOneIncidentWithTheGroupsFiringAlerts(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: w.svc})
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{})))

	list := w.incidents(t)
	if len(list) != 1 {
		t.Fatalf("got %d incidents, want 1", len(list))
	}
	inc := list[0]
	if inc.Title != "CheckoutDown (2 alerts)" || inc.Severity != 1 || inc.Service != "checkout" || inc.Source != "alertmanager" || inc.Status != incidents.StatusTriggered {
		t.Errorf("got title %q, severity %d, service %q, source %q, status %s; want CheckoutDown (2 alerts), 1, checkout, alertmanager, triggered",
			inc.Title, inc.Severity, inc.Service, inc.Source, inc.Status)
	}
	if got := inc.Refs[incidents.RefAlertmanagerGroup]; got != checkoutGroup {
		t.Errorf("got group ref %q, want %q", got, checkoutGroup)
	}
	if len(inc.Alerts) != 2 || inc.Alerts[0].Status != "firing" || inc.Alerts[1].Status != "firing" || inc.Alerts[0].Fingerprint == "" {
		t.Errorf("got alerts %+v, want two firing alerts with fingerprints", inc.Alerts)
	}
	got := countTypes(w.timeline(t, inc.ID))
	if got[incidents.EventDeclared] != 1 || got[incidents.EventAlertFired] != 2 || len(got) != 2 {
		t.Errorf("got timeline %v, want 1 declaration and 2 alert.fired", got)
	}
	for _, e := range w.timeline(t, inc.ID) {
		if e.Actor != Actor || e.Source != Source {
			t.Errorf("got event %s by %q from %q, want by and from alertmanager", e.Type, e.Actor, e.Source)
		}
	}
}

func TestProcessorAppliesTheSameNotificationOnce(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: w.svc})
	m := notification(checkoutGroup, checkoutAlert("a:80", time.Time{}))
	handle(t, p, m)
	inc := w.incidents(t)[0]
	calls := w.seen.total()

	handle(t, p, m)
	again := w.incidents(t)
	if len(again) != 1 || again[0].Version != inc.Version {
		t.Fatalf("got %d incidents, version %d after the repeat; want 1, version %d", len(again), again[0].Version, inc.Version)
	}
	if got := len(w.timeline(t, inc.ID)); got != 2 {
		t.Errorf("got %d timeline events, want 2", got)
	}
	if got := w.seen.total(); got != calls {
		t.Errorf("got %d change notifications after the repeat, want %d", got, calls)
	}
}

func TestProcessorAddsAlertsThatJoinTheGroup(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: w.svc})
	a, b := checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{})
	handle(t, p, notification(checkoutGroup, a))
	handle(t, p, notification(checkoutGroup, a, b))
	list := w.incidents(t)
	if len(list) != 1 || len(list[0].Alerts) != 2 {
		t.Fatalf("got %d incidents, the first with %d alerts; want 1 with 2", len(list), len(list[0].Alerts))
	}
	if got := countTypes(w.timeline(t, list[0].ID))[incidents.EventAlertFired]; got != 2 {
		t.Errorf("got %d alert.fired events, want 2", got)
	}
}

func TestProcessorRecordsResolvedAlertsAndLeavesTheIncidentOpenByDefault(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: w.svc})
	ends := t0.Add(10 * time.Minute)
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{})))
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", ends), checkoutAlert("b:80", time.Time{})))

	inc := w.incidents(t)[0]
	if got := countTypes(w.timeline(t, inc.ID))[incidents.EventAlertResolved]; got != 1 {
		t.Errorf("got %d alert.resolved events after one resolved, want 1", got)
	}
	res, err := w.svc.ReportAlerts(context.Background(), Group(notification(checkoutGroup, checkoutAlert("a:80", ends), checkoutAlert("b:80", ends))), incidents.Action{Actor: Actor})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AllResolved || res.Resolved != 1 {
		t.Errorf("got AllResolved %v, Resolved %d when the last alert resolved; want true, 1", res.AllResolved, res.Resolved)
	}
	inc, err = w.svc.Get(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incidents.StatusTriggered {
		t.Errorf("got status %s without AutoResolve, want triggered: people resolve it", inc.Status)
	}
	for _, st := range inc.Alerts {
		if st.Status != "resolved" || !st.EndsAt.Equal(ends) {
			t.Errorf("got alert %s %s ending %v, want resolved at %v", st.Fingerprint, st.Status, st.EndsAt, ends)
		}
	}
}

func TestProcessorResolvesTheIncidentWithAutoResolve(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: w.svc, AutoResolve: true})
	ends := t0.Add(10 * time.Minute)
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{})))
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", ends), checkoutAlert("b:80", time.Time{})))
	if got := w.incidents(t)[0].Status; got != incidents.StatusTriggered {
		t.Fatalf("got status %s while one alert fires, want triggered", got)
	}
	last := notification(checkoutGroup, checkoutAlert("a:80", ends), checkoutAlert("b:80", ends))
	handle(t, p, last)
	inc := w.incidents(t)[0]
	if inc.Status != incidents.StatusResolved {
		t.Fatalf("got status %s after every alert resolved, want resolved", inc.Status)
	}
	handle(t, p, last)
	got := countTypes(w.timeline(t, inc.ID))
	if got[incidents.EventStatusChanged] != 1 || got[incidents.EventAlertResolved] != 2 {
		t.Errorf("got timeline %v, want one status change and 2 alert.resolved", got)
	}
}

// A failure between the report and the resolution leaves the delivery for
// another attempt, which must still resolve the incident although the
// report then changes nothing.
func TestProcessorResolvesOnTheAttemptAfterAFailedResolution(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: w.svc, AutoResolve: true})
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", time.Time{})))
	last := notification(checkoutGroup, checkoutAlert("a:80", t0.Add(time.Hour)))
	// The first attempt's report, as if the process died right after it.
	if _, err := w.svc.ReportAlerts(context.Background(), Group(last), incidents.Action{Actor: Actor}); err != nil {
		t.Fatal(err)
	}
	handle(t, p, last)
	if got := w.incidents(t)[0].Status; got != incidents.StatusResolved {
		t.Errorf("got status %s, want resolved", got)
	}
}

func TestProcessorLeavesAnIncidentResolvedByHandAlone(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: w.svc, AutoResolve: true})
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", time.Time{})))
	id := w.incidents(t)[0].ID
	if _, err := w.svc.Transition(context.Background(), id, incidents.StatusResolved, incidents.Action{Actor: "U123", Source: "slack"}); err != nil {
		t.Fatal(err)
	}
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", t0.Add(time.Hour))))
	got := countTypes(w.timeline(t, id))
	if got[incidents.EventStatusChanged] != 1 || got[incidents.EventAlertResolved] != 1 {
		t.Errorf("got timeline %v, want the one status change by hand and the alert resolved", got)
	}
}

func TestAGroupThatFiresAgainAfterItsIncidentResolvedOpensANewIncident(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: w.svc, AutoResolve: true})
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", time.Time{})))
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", t0.Add(time.Hour))))
	again := checkoutAlert("a:80", time.Time{})
	again.StartsAt = t0.Add(24 * time.Hour)
	handle(t, p, notification(checkoutGroup, again))
	handle(t, p, notification(checkoutGroup, again))

	list := w.incidents(t)
	if len(list) != 2 {
		t.Fatalf("got %d incidents, want 2", len(list))
	}
	old, cur := list[0], list[1]
	if old.Status != incidents.StatusResolved || cur.Status != incidents.StatusTriggered {
		t.Errorf("got statuses %s, %s; want resolved, triggered", old.Status, cur.Status)
	}
	if cur.Refs[incidents.RefAlertmanagerGroup] != checkoutGroup || old.Refs[incidents.RefAlertmanagerGroup] != "" ||
		old.Refs[incidents.RefAlertmanagerGroup+".previous"] != checkoutGroup {
		t.Errorf("got refs %v and %v, want the group key moved to the new incident", old.Refs, cur.Refs)
	}
	if len(cur.Alerts) != 1 || cur.Alerts[0].Status != "firing" || !cur.Alerts[0].StartsAt.Equal(again.StartsAt) {
		t.Errorf("got alerts %+v, want the alert firing since %v", cur.Alerts, again.StartsAt)
	}
	if got := countTypes(w.timeline(t, old.ID)); got[incidents.EventAlertFired] != 1 {
		t.Errorf("got old timeline %v, want its one alert.fired only", got)
	}
}

func TestProcessorIgnoresResolutionsOfAGroupItNeverSawFire(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: w.svc})
	handle(t, p, notification(checkoutGroup, checkoutAlert("a:80", t0.Add(time.Hour))))
	if got := len(w.incidents(t)); got != 0 {
		t.Errorf("got %d incidents, want none", got)
	}
}

func TestProcessorDropsWhatCanNeverBeApplied(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: w.svc})
	noKey := notification("", checkoutAlert("a:80", time.Time{}))
	tests := []struct {
		name string
		body []byte
	}{
		{"a body that is not JSON", []byte("<html>")},
		{"another webhook version", []byte(`{"version":"3","groupKey":"g","alerts":[]}`)},
		{"a notification without group key", body(t, noKey)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.HandleDelivery(context.Background(), inbox.Delivery{ID: "alertmanager:x", Source: Source, Body: tt.body})
			if !fault.IsPermanent(err) || !strings.Contains(err.Error(), "alertmanager:x") {
				t.Errorf("got %v, want a permanent error naming the delivery", err)
			}
		})
	}
	if got := len(w.incidents(t)); got != 0 {
		t.Errorf("got %d incidents, want none", got)
	}
}

// failingStore fails every read, as a store whose disk or network went
// away.
type failingStore struct{ incidents.Store }

var errDown = errors.New("store down")

func (failingStore) FindByRef(context.Context, string, string) (*incidents.Incident, error) {
	return nil, errDown
}

func TestProcessorLeavesAStoreFailureForAnotherAttempt(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	p := NewProcessor(ProcessorConfig{Service: newWorldOver(failingStore{w.store}, w.store).svc})
	err := p.HandleDelivery(context.Background(), delivery(t, notification(checkoutGroup, checkoutAlert("a:80", time.Time{}))))
	if err == nil || fault.IsPermanent(err) || !errors.Is(err, errDown) {
		t.Errorf("got %v, want the store's error, not permanent", err)
	}
}

func TestGroupDescribesTheIncident(t *testing.T) {
	crit := func(inst string) Alert {
		return testAlert("DiskFull", inst, t0, time.Time{}, map[string]string{"severity": "critical", "app": "db"})
	}
	tests := []struct {
		name     string
		m        *Message
		title    string
		severity int
		service  string
	}{
		{"one alert is named by its alertname", notification("g", crit("a")), "DiskFull", 1, "db"},
		{"several alerts are counted", notification("g", crit("a"), crit("b"), crit("c")), "DiskFull (3 alerts)", 1, "db"},
		{"resolved alerts are not counted", notification("g", crit("a"), testAlert("DiskFull", "b", t0, t0.Add(time.Hour), map[string]string{"severity": "critical", "app": "db"})), "DiskFull", 1, "db"},
		{"a common summary wins", func() *Message {
			m := notification("g", crit("a"), crit("b"))
			m.CommonAnnotations["summary"] = "  Disks   are\nfull "
			return m
		}(), "Disks are full", 1, "db"},
		{"alerts of different names take the first one's summary", notification("g",
			testAlert("A", "x", t0, time.Time{}, map[string]string{"severity": "warning"}),
			testAlert("B", "y", t0, time.Time{}, map[string]string{"severity": "error"})), "x is in trouble", 2, ""},
		{"the worst severity of the firing alerts counts", notification("g",
			testAlert("A", "x", t0, t0.Add(time.Hour), map[string]string{"severity": "critical"}),
			testAlert("A", "y", t0, time.Time{}, map[string]string{"severity": "info"})), "A", 4, ""},
		{"an unknown severity is 0", notification("g", testAlert("A", "x", t0, time.Time{}, map[string]string{"severity": "spicy"})), "A", 0, ""},
		{"a long title is left for the Service to cut", func() *Message {
			m := notification("g", crit("a"))
			m.CommonAnnotations["summary"] = strings.Repeat("é", 300)
			return m
		}(), strings.Repeat("é", 300), 1, "db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Group(tt.m)
			if g.Title != tt.title || g.Severity != tt.severity || g.Service != tt.service || g.Source != "alertmanager" {
				t.Errorf("got title %q, severity %d, service %q, source %q; want %q, %d, %q, alertmanager", g.Title, g.Severity, g.Service, g.Source, tt.title, tt.severity, tt.service)
			}
			if g.Refs[incidents.RefAlertmanagerGroup] != "g" || len(g.Alerts) != len(tt.m.AlertList) {
				t.Errorf("got refs %v and %d alerts, want the group key and %d", g.Refs, len(g.Alerts), len(tt.m.AlertList))
			}
		})
	}
}

func TestSeverityMapsCommonLabels(t *testing.T) {
	tests := map[string]int{
		"critical": 1, "CRITICAL": 1, " page ": 1, "P1": 1,
		"error": 2, "high": 2, "sev2": 2,
		"warning": 3, "Warn": 3,
		"info": 4, "low": 4,
		"none": 5,
		"":     0, "urgent-ish": 0,
	}
	for label, want := range tests {
		if got := Severity(label); got != want {
			t.Errorf("Severity(%q) = %d, want %d", label, got, want)
		}
	}
}
