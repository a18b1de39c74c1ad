package alertmanager

import (
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// TestTheWebhookDrivesAGroupsIncidentsEndToEnd follows one group through
// real HTTP, the bbolt inbox, the Worker and the Processor: it fires, is
// repeated, resolves, and fires again a day later.
func TestTheWebhookDrivesAGroupsIncidentsEndToEnd(t *testing.T) {
	p := newPipeline(t, boltBackend(t), false)
	processed := uint64(0)
	post := func(m *Message, stored bool) {
		t.Helper()
		r := p.postAs(t, "Bearer "+testToken, body(t, m))
		if r.status != 200 || !strings.Contains(r.body, map[bool]string{true: `"stored":true`, false: `"stored":false`}[stored]) {
			t.Fatalf("got %d %q, want 200 with stored %v", r.status, r.body, stored)
		}
		if stored {
			processed++
		}
		p.settle(t, processed)
	}
	a, b := checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{})
	post(notification(checkoutGroup, a, b), true)
	post(notification(checkoutGroup, b, a), false)
	list := p.incidents(t)
	if len(list) != 1 || len(list[0].Alerts) != 2 {
		t.Fatalf("got %d incidents, want 1 with 2 alerts", len(list))
	}
	first := list[0]
	writes := p.seen.of(first.ID)

	ends := t0.Add(30 * time.Minute)
	post(notification(checkoutGroup, checkoutAlert("a:80", ends), checkoutAlert("b:80", ends)), true)
	inc, err := p.svc.Get(t.Context(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incidents.StatusTriggered || countTypes(p.timeline(t, inc.ID))[incidents.EventAlertResolved] != 2 {
		t.Errorf("got status %s and timeline %v, want triggered (no auto-resolve) with 2 alert.resolved", inc.Status, countTypes(p.timeline(t, inc.ID)))
	}
	if got := p.seen.of(first.ID) - writes; got != 1 {
		t.Errorf("got %d change notifications for the resolutions, want 1", got)
	}
	if _, err := p.svc.Transition(t.Context(), first.ID, incidents.StatusResolved, incidents.Action{Actor: "U1", Source: "slack"}); err != nil {
		t.Fatal(err)
	}

	refired := checkoutAlert("a:80", time.Time{})
	refired.StartsAt = t0.Add(24 * time.Hour)
	post(notification(checkoutGroup, refired), true)
	list = p.incidents(t)
	if len(list) != 2 || list[1].Status != incidents.StatusTriggered || len(list[1].Alerts) != 1 || list[1].ID == first.ID {
		t.Fatalf("got %d incidents, want a second, open one with the alert that fired again", len(list))
	}
}
