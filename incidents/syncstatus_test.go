package incidents_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// readsCounted is the real store, counting the timelines read whole.
type readsCounted struct {
	incidents.Store
	whole atomic.Int64
}

func (r *readsCounted) Events(ctx context.Context, id string, after int64, limit int) ([]incidents.Event, error) {
	if after == 0 && limit == 0 {
		r.whole.Add(1)
	}
	return r.Store.Events(ctx, id, after, limit)
}

func TestAStatusReportedElsewhereAppliesOnceInOrderAndWhereTheRulesAllow(t *testing.T) {
	c := newClock()
	st := &readsCounted{Store: openStore(t)}
	svc := incidents.NewService(st, incidents.Options{Now: c.Now})
	ctx := context.Background()
	inc, _, err := svc.Declare(ctx, incidents.Declaration{Title: "Checkout down"}, incidents.Action{Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(m int) time.Time { return c.At(time.Duration(m) * time.Minute) }
	pd := func(key string, m int) incidents.Action {
		return incidents.Action{Key: key, Actor: "PagerDuty user", Source: "pagerduty", At: at(m)}
	}
	steps := []struct {
		name string
		to   incidents.Status
		act  incidents.Action
		want incidents.StatusSync
		then incidents.Status
	}{
		{"acknowledged there", incidents.StatusAcknowledged, pd("ev1", 2), incidents.StatusApplied, incidents.StatusAcknowledged},
		{"the same event again", incidents.StatusAcknowledged, pd("ev1", 2), incidents.StatusSeen, incidents.StatusAcknowledged},
		{"an echo of the status it has", incidents.StatusAcknowledged, pd("ev2", 3), incidents.StatusHeld, incidents.StatusAcknowledged},
		{"resolved there", incidents.StatusResolved, pd("ev3", 5), incidents.StatusApplied, incidents.StatusResolved},
		{"a late delivery of an earlier reopen", incidents.StatusTriggered, pd("ev4", 4), incidents.StatusLate, incidents.StatusResolved},
		{"a move the rules refuse", incidents.StatusMitigated, pd("ev5", 6), incidents.StatusRefused, incidents.StatusResolved},
		{"reopened there, later", incidents.StatusTriggered, pd("ev6", 7), incidents.StatusApplied, incidents.StatusTriggered},
	}
	for _, s := range steps {
		got, err := svc.SyncStatus(ctx, inc.ID, s.to, s.act)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		now, err := svc.Get(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != s.want || now.Status != s.then {
			t.Errorf("%s: got %v and status %s, want %v and %s", s.name, got, now.Status, s.want, s.then)
		}
	}
	// Once, for the first report, which cannot tell this incident from
	// one synced before it kept its reported times; never after.
	if n := st.whole.Load(); n != 1 {
		t.Errorf("the timeline was read whole %d times for %d reports, want once", n, len(steps))
	}
	var changes int
	events, err := svc.Timeline(ctx, inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type == incidents.EventStatusChanged {
			changes++
		}
	}
	if changes != 3 {
		t.Errorf("got %d status changes on the timeline, want the 3 applied", changes)
	}
}

// An incident synced before it kept its reported times reads them once
// from its timeline, so that a late delivery is still seen as late.
func TestAnIncidentSyncedBeforeReadsItsLastReportedStatusFromItsTimeline(t *testing.T) {
	c := newClock()
	st := &readsCounted{Store: openStore(t)}
	svc := incidents.NewService(st, incidents.Options{Now: c.Now})
	ctx := context.Background()
	inc, _, err := svc.Declare(ctx, incidents.Declaration{Title: "Checkout down"}, incidents.Action{})
	if err != nil {
		t.Fatal(err)
	}
	// As it was applied before: a plain transition from PagerDuty.
	if _, err := svc.Transition(ctx, inc.ID, incidents.StatusResolved, incidents.Action{Key: "ev1", Source: "pagerduty", At: c.At(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, err := svc.SyncStatus(ctx, inc.ID, incidents.StatusTriggered, incidents.Action{Key: "ev0", Source: "pagerduty", At: c.At(5 * time.Minute)})
	if err != nil || got != incidents.StatusLate {
		t.Fatalf("a report older than the last one on the timeline: got %v (%v), want late", got, err)
	}
	if st.whole.Load() != 1 {
		t.Errorf("read the timeline %d times, want once", st.whole.Load())
	}
	got, err = svc.SyncStatus(ctx, inc.ID, incidents.StatusTriggered, incidents.Action{Key: "ev2", Source: "pagerduty", At: c.At(12 * time.Minute)})
	if err != nil || got != incidents.StatusApplied {
		t.Fatalf("a later report: got %v (%v), want applied", got, err)
	}
	if _, err := svc.SyncStatus(ctx, inc.ID, incidents.StatusResolved, incidents.Action{Key: "ev3", Source: "pagerduty", At: c.At(13 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if st.whole.Load() != 2 {
		t.Errorf("read the timeline %d times in all, want twice: once applied, the incident keeps the time", st.whole.Load())
	}
}
