package alertmanager

import (
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
)

// Late copies of notifications reach the processor when a second
// Alertmanager of a cluster sends what the first already sent, or when a
// delivery is taken again after its lease ran out. They must not undo what
// came after them.
func TestALateNotificationDoesNotUndoWhatCameAfterIt(t *testing.T) {
	ended := t0.Add(time.Hour)
	refired := checkoutAlert("a:80", time.Time{})
	refired.StartsAt = t0.Add(2 * time.Hour)
	tests := []struct {
		name        string
		autoResolve bool
		sequence    []*Message
		incidents   int
		status      incidents.Status // of the last incident
		alert       string           // the last incident's alert a:80
	}{
		{
			name: "a firing copy after the resolution leaves the alert resolved",
			sequence: []*Message{
				notification(checkoutGroup, checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{})),
				notification(checkoutGroup, checkoutAlert("a:80", ended), checkoutAlert("b:80", time.Time{})),
				notification(checkoutGroup, checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{}), checkoutAlert("c:80", time.Time{})),
			},
			incidents: 1, status: incidents.StatusTriggered, alert: "resolved",
		},
		{
			name:        "a firing copy after the incident resolved opens no new incident",
			autoResolve: true,
			sequence: []*Message{
				notification(checkoutGroup, checkoutAlert("a:80", time.Time{})),
				notification(checkoutGroup, checkoutAlert("a:80", ended)),
				notification(checkoutGroup, checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", ended)),
			},
			incidents: 1, status: incidents.StatusResolved, alert: "resolved",
		},
		{
			name: "a resolved copy of an earlier firing leaves the alert that fired again firing",
			sequence: []*Message{
				notification(checkoutGroup, checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{})),
				notification(checkoutGroup, checkoutAlert("a:80", ended), checkoutAlert("b:80", time.Time{})),
				notification(checkoutGroup, refired, checkoutAlert("b:80", time.Time{})),
				notification(checkoutGroup, checkoutAlert("a:80", ended), checkoutAlert("b:80", ended)),
			},
			incidents: 1, status: incidents.StatusTriggered, alert: "firing",
		},
		{
			name:        "an alert that fires again after the incident resolved opens a new one",
			autoResolve: true,
			sequence: []*Message{
				notification(checkoutGroup, checkoutAlert("a:80", time.Time{})),
				notification(checkoutGroup, checkoutAlert("a:80", ended)),
				notification(checkoutGroup, refired),
			},
			incidents: 2, status: incidents.StatusTriggered, alert: "firing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, boltstore.Options{})
			p := NewProcessor(ProcessorConfig{Service: w.svc, AutoResolve: tt.autoResolve})
			for _, m := range tt.sequence {
				handle(t, p, m)
			}
			list := w.incidents(t)
			if len(list) != tt.incidents {
				t.Fatalf("got %d incidents, want %d", len(list), tt.incidents)
			}
			inc := list[len(list)-1]
			if inc.Status != tt.status || inc.Alerts[0].Status != tt.alert {
				t.Errorf("got incident %s with alert a:80 %s, want %s with it %s", inc.Status, inc.Alerts[0].Status, tt.status, tt.alert)
			}
			// The incident's state and its timeline agree: the alert's last
			// event says what its state says.
			last := ""
			for _, e := range w.timeline(t, inc.ID) {
				if e.Data["fingerprint"] == inc.Alerts[0].Fingerprint {
					last = map[incidents.EventType]string{incidents.EventAlertFired: "firing", incidents.EventAlertResolved: "resolved"}[e.Type]
				}
			}
			if last != tt.alert {
				t.Errorf("got the alert's last timeline event %q, want %q", last, tt.alert)
			}
		})
	}
}
