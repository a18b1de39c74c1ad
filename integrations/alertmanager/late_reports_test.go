package alertmanager

// Late and repeated reports through the domain: what a second Alertmanager
// of a cluster, or a delivery taken again after its lease ran out, sends.
// Each test calls incidents.Service.ReportAlerts with the Processor's own
// Group, so that the domain's rules hold without the Processor's guard.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
)

func report(t *testing.T, svc *incidents.Service, m *Message) incidents.AlertsResult {
	t.Helper()
	res, err := svc.ReportAlerts(context.Background(), Group(m), incidents.Action{Actor: Actor, Source: Source})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A late firing report over a resolved alert with the same start marks
// it firing again, with no timeline event (the key is already there): the
// state and the timeline disagree.
func TestALateFiringReportDoesNotUndoAResolution(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	firing := notification(checkoutGroup, checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{}))
	report(t, w.svc, firing)
	report(t, w.svc, notification(checkoutGroup, checkoutAlert("a:80", t0.Add(time.Hour)), checkoutAlert("b:80", time.Time{})))
	res := report(t, w.svc, firing)
	if res.Incident.Alerts[0].Status != "resolved" || res.Fired != 0 {
		t.Errorf("got alert a %s and Fired %d from a late copy; want resolved and 0 (the timeline's last event for it is alert.resolved)", res.Incident.Alerts[0].Status, res.Fired)
	}
}

// The same late copy after the incident was resolved opens a second
// incident for an alert that already resolved.
func TestALateFiringReportOpensNoIncidentAfterResolution(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	firing := notification(checkoutGroup, checkoutAlert("a:80", time.Time{}))
	res := report(t, w.svc, firing)
	report(t, w.svc, notification(checkoutGroup, checkoutAlert("a:80", t0.Add(time.Hour))))
	if _, err := w.svc.Transition(context.Background(), res.Incident.ID, incidents.StatusResolved, incidents.Action{}); err != nil {
		t.Fatal(err)
	}
	if again := report(t, w.svc, firing); again.Created {
		t.Errorf("got a new incident %s from a late copy of a resolved alert, want none", again.Incident.ID)
	}
}

// A late resolved report of an earlier occurrence marks the alert that
// fired again resolved, with no timeline event.
func TestALateResolvedReportLeavesARefiredAlertFiring(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	report(t, w.svc, notification(checkoutGroup, checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{})))
	old := notification(checkoutGroup, checkoutAlert("a:80", t0.Add(time.Hour)), checkoutAlert("b:80", time.Time{}))
	report(t, w.svc, old)
	refired := checkoutAlert("a:80", time.Time{})
	refired.StartsAt = t0.Add(2 * time.Hour)
	report(t, w.svc, notification(checkoutGroup, refired, checkoutAlert("b:80", time.Time{})))
	res := report(t, w.svc, old)
	if res.Incident.Alerts[0].Status != "firing" {
		t.Errorf("got alert a %s after a late copy of its earlier resolution, want firing since %v", res.Incident.Alerts[0].Status, refired.StartsAt)
	}
}

// racingStore lets another replica apply the same report just before this
// replica's first Update, as two replicas processing one delivery do.
type racingStore struct {
	incidents.Store
	once  sync.Once
	other func()
}

func (r *racingStore) Update(ctx context.Context, inc *incidents.Incident, events []incidents.Event) ([]incidents.Event, error) {
	r.once.Do(r.other)
	return r.Store.Update(ctx, inc, events)
}

// AllResolved is not reset when change retries after a conflict: the
// replica whose retry changed nothing still says it resolved the last
// alert (Resolved 0, AllResolved true), so "the last resolution" is said
// twice.
func TestOnlyTheReplicaThatResolvedTheLastAlertSaysSo(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	report(t, w.svc, notification(checkoutGroup, checkoutAlert("a:80", time.Time{})))
	last := notification(checkoutGroup, checkoutAlert("a:80", t0.Add(time.Hour)))
	var otherRes incidents.AlertsResult
	rs := &racingStore{Store: w.store}
	rs.other = func() { otherRes = report(t, w.svc, last) }
	replica := newWorldOver(rs, w.store)
	res := report(t, replica.svc, last)
	if otherRes.AllResolved && res.AllResolved {
		t.Errorf("got AllResolved from both replicas (this one: Resolved %d); want it from the one that resolved the alert only", res.Resolved)
	}
}

// MaxAlerts says later alerts are "counted on the timeline only", but
// an alert over the cap leaves no trace at all.
func TestAlertsOverTheCapAreCountedOnTheTimeline(t *testing.T) {
	w := newWorld(t, boltstore.Options{})
	var alerts []Alert
	for i := range incidents.MaxAlerts + 1 {
		alerts = append(alerts, checkoutAlert(fmt.Sprintf("pod-%04d", i), time.Time{}))
	}
	res := report(t, w.svc, notification(checkoutGroup, alerts...))
	events := w.timeline(t, res.Incident.ID)
	if len(res.Incident.Alerts) == incidents.MaxAlerts && len(events) == 1+incidents.MaxAlerts {
		t.Errorf("got %d alerts and %d events for %d alerts; want the one over the cap counted on the timeline", len(res.Incident.Alerts), len(events), len(alerts))
	}
}
