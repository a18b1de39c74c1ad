package incidents_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu     sync.Mutex
	events []incidents.Event
	calls  int
}

func (r *recorder) Observe(_ context.Context, _ *incidents.Incident, events []incidents.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.events = append(r.events, events...)
}

func (r *recorder) types() []incidents.EventType {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []incidents.EventType
	for _, e := range r.events {
		out = append(out, e.Type)
	}
	return out
}

// enricher attaches a fixed runbook and a link naming the incident.
type enricher struct{ calls atomic.Int64 }

func (e *enricher) Enrich(_ context.Context, id string, alerts []runbooks.Alert) incidents.Enrichment {
	e.calls.Add(1)
	return incidents.Enrichment{
		Runbook: &incidents.RunbookRef{ID: "examples:disk.md", Title: "Disk full"},
		Steps:   []incidents.StepProgress{{Number: 1, Title: "Look"}, {Number: 2, Title: "Clean"}},
		Links:   []incidents.Link{{Name: "logs", Kind: "logs", URL: "https://logs.example/?q=" + id + "&n=" + fmt.Sprint(len(alerts))}},
	}
}

func newAlertService(t *testing.T) (*incidents.Service, *enricher, *recorder) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := newClock()
	var n atomic.Int64
	en := &enricher{}
	svc := incidents.NewService(st, incidents.Options{Now: c.Now, Enricher: en, NewID: func(time.Time) string {
		return fmt.Sprintf("INC-%d", n.Add(1))
	}})
	rec := &recorder{}
	svc.Subscribe(rec)
	return svc, en, rec
}

func alert(fp, status string) runbooks.Alert {
	a := runbooks.Alert{Labels: map[string]string{"alertname": "DiskFull", "instance": fp}, Status: status,
		Fingerprint: fp, StartsAt: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC), Source: "alertmanager"}
	if status == "resolved" {
		a.EndsAt = a.StartsAt.Add(time.Hour)
	}
	return a
}

func group(alerts ...runbooks.Alert) incidents.AlertGroup {
	return incidents.AlertGroup{Refs: map[string]string{incidents.RefAlertmanagerGroup: "g1"}, Source: "alertmanager", Alerts: alerts}
}

func TestAnAlertGroupOpensOneEnrichedIncidentAndRepeatsChangeNothing(t *testing.T) {
	svc, en, rec := newAlertService(t)
	res, err := svc.ReportAlerts(ctx, group(alert("a", "firing"), alert("b", "firing")), incidents.Action{Key: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Fired != 2 || res.Incident.Title != "DiskFull" {
		t.Fatalf("got created=%v fired=%d title=%q, want a new incident DiskFull with 2 alerts", res.Created, res.Fired, res.Incident.Title)
	}
	inc := res.Incident
	if inc.Runbook == nil || len(inc.Steps) != 2 || len(inc.Links) != 1 || inc.Links[0].URL != "https://logs.example/?q=INC-1&n=2" {
		t.Fatalf("got runbook %v steps %d links %v, want the enrichment, its link naming INC-1", inc.Runbook, len(inc.Steps), inc.Links)
	}
	calls := rec.calls
	for i := 0; i < 3; i++ {
		again, err := svc.ReportAlerts(ctx, group(alert("a", "firing"), alert("b", "firing")), incidents.Action{Key: fmt.Sprint("d", i+2)})
		if err != nil {
			t.Fatal(err)
		}
		if again.Created || again.Fired != 0 || again.Incident.ID != inc.ID {
			t.Fatalf("repeat %d: got created=%v fired=%d id=%s, want nothing new on %s", i, again.Created, again.Fired, again.Incident.ID, inc.ID)
		}
	}
	if rec.calls != calls || en.calls.Load() != 1 {
		t.Errorf("got %d more observer calls and %d enrichments, want none and 1", rec.calls-calls, en.calls.Load())
	}
	want := []incidents.EventType{incidents.EventDeclared, incidents.EventRunbookAttached, incidents.EventAlertFired, incidents.EventAlertFired}
	if got := rec.types(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}

func TestAGroupsFirstReportOpensItsIncidentWithItsAlertsInOneWrite(t *testing.T) {
	tests := []struct {
		name   string
		alerts []runbooks.Alert
		fired  int
	}{
		{"one alert firing", []runbooks.Alert{alert("a", "firing")}, 1},
		{"three alerts firing", []runbooks.Alert{alert("a", "firing"), alert("b", "firing"), alert("c", "firing")}, 3},
		{"a firing alert and one resolved before it was seen", []runbooks.Alert{alert("a", "firing"), alert("b", "resolved")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _, rec := newAlertService(t)
			res, err := svc.ReportAlerts(ctx, group(tt.alerts...), incidents.Action{Key: "d1"})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Created || res.Fired != tt.fired || len(res.Incident.Alerts) != tt.fired {
				t.Fatalf("got created=%v fired=%d alerts=%d, want a new incident with %d alerts", res.Created, res.Fired, len(res.Incident.Alerts), tt.fired)
			}
			// Each stored change is observed once: one here, and the
			// stored incident is at its first version.
			stored, err := svc.Get(ctx, res.Incident.ID)
			if err != nil {
				t.Fatal(err)
			}
			if rec.calls != 1 || stored.Version != 1 || len(stored.Alerts) != tt.fired {
				t.Errorf("got %d changes stored, version %d with %d alerts, want 1 change, version 1 with %d alerts", rec.calls, stored.Version, len(stored.Alerts), tt.fired)
			}
			events, err := svc.Timeline(ctx, res.Incident.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			fired := 0
			for _, e := range events {
				if e.Type == incidents.EventAlertFired {
					fired++
				}
			}
			if len(events) != 2+tt.fired || fired != tt.fired {
				t.Errorf("got %d events, %d of them alert.fired, want the declaration, the runbook and %d alert.fired", len(events), fired, tt.fired)
			}
		})
	}
}

func TestResolvingTheLastAlertSaysSoOnce(t *testing.T) {
	svc, _, _ := newAlertService(t)
	if _, err := svc.ReportAlerts(ctx, group(alert("a", "firing"), alert("b", "firing")), incidents.Action{}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		alerts       []runbooks.Alert
		resolved     int
		allResolved  bool
		wantStatuses string
	}{
		{[]runbooks.Alert{alert("a", "resolved"), alert("b", "firing")}, 1, false, "[resolved firing]"},
		{[]runbooks.Alert{alert("a", "resolved"), alert("b", "resolved")}, 1, true, "[resolved resolved]"},
		{[]runbooks.Alert{alert("a", "resolved"), alert("b", "resolved")}, 0, false, "[resolved resolved]"},
		{[]runbooks.Alert{alert("zz", "resolved")}, 0, false, "[resolved resolved]"},
	}
	for i, s := range steps {
		res, err := svc.ReportAlerts(ctx, group(s.alerts...), incidents.Action{})
		if err != nil {
			t.Fatal(err)
		}
		var statuses []string
		for _, a := range res.Incident.Alerts {
			statuses = append(statuses, a.Status)
		}
		if res.Resolved != s.resolved || res.AllResolved != s.allResolved || fmt.Sprint(statuses) != s.wantStatuses {
			t.Errorf("report %d: got resolved=%d all=%v statuses=%v, want %d %v %s", i, res.Resolved, res.AllResolved, statuses, s.resolved, s.allResolved, s.wantStatuses)
		}
	}
}

func TestResolutionsOfAnUnknownGroupOpenNothing(t *testing.T) {
	svc, en, _ := newAlertService(t)
	res, err := svc.ReportAlerts(ctx, group(alert("a", "resolved")), incidents.Action{})
	if err != nil || res.Incident != nil || en.calls.Load() != 0 {
		t.Fatalf("got %+v, %v, %d enrichments; want no incident", res, err, en.calls.Load())
	}
}

func TestAGroupFiringAgainAfterResolutionOpensANewIncident(t *testing.T) {
	svc, _, _ := newAlertService(t)
	first, err := svc.ReportAlerts(ctx, group(alert("a", "firing")), incidents.Action{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, first.Incident.ID, incidents.StatusResolved, incidents.Action{Actor: "U1"}); err != nil {
		t.Fatal(err)
	}
	refire := alert("a", "firing")
	refire.StartsAt = refire.StartsAt.Add(24 * time.Hour)
	second, err := svc.ReportAlerts(ctx, group(refire), incidents.Action{})
	if err != nil {
		t.Fatal(err)
	}
	if !second.Created || second.Incident.ID == first.Incident.ID {
		t.Fatalf("got %s (created %v), want a new incident after %s", second.Incident.ID, second.Created, first.Incident.ID)
	}
}

func TestConcurrentReportsOfOneGroupMakeOneIncident(t *testing.T) {
	svc, _, _ := newAlertService(t)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := svc.ReportAlerts(ctx, group(alert("a", "firing"), alert(fmt.Sprint("x", i), "firing")), incidents.Action{})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = res.Incident.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("got incidents %v, want one", ids)
		}
	}
	inc, err := svc.Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.Alerts) != 9 {
		t.Errorf("got %d alerts, want 9 (a and x0..x7)", len(inc.Alerts))
	}
	events, _ := svc.Timeline(ctx, inc.ID, 0, 0)
	fired := 0
	for _, e := range events {
		if e.Type == incidents.EventAlertFired {
			fired++
		}
	}
	if fired != 9 {
		t.Errorf("got %d alert.fired events, want 9", fired)
	}
}
