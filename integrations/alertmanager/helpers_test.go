package alertmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
)

// t0 is when the test alerts start.
var t0 = time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)

// testAlert builds one alert of a notification: firing when ends is zero.
func testAlert(name, instance string, starts, ends time.Time, extra map[string]string) Alert {
	labels := map[string]string{"alertname": name, "instance": instance}
	for k, v := range extra {
		labels[k] = v
	}
	status := "firing"
	if !ends.IsZero() {
		status = "resolved"
	}
	return Alert{
		Status:       status,
		Labels:       labels,
		Annotations:  map[string]string{"summary": instance + " is in trouble"},
		StartsAt:     starts,
		EndsAt:       ends,
		GeneratorURL: "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
		Fingerprint:  fmt.Sprintf("%016x", fnv64(name+"/"+instance)),
	}
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// notification builds a message the way Alertmanager does: its status is
// firing while one alert fires, and the common labels are those all
// alerts share.
func notification(groupKey string, alerts ...Alert) *Message {
	m := &Message{Version: "4", GroupKey: groupKey, Receiver: "breadcrumb", Status: "resolved",
		GroupLabels: map[string]string{}, CommonLabels: map[string]string{}, CommonAnnotations: map[string]string{},
		ExternalURL: "http://alertmanager:9093", AlertList: alerts}
	if m.AlertList == nil {
		m.AlertList = []Alert{}
	}
	for i, a := range alerts {
		if a.Status == "firing" {
			m.Status = "firing"
		}
		for k, v := range a.Labels {
			if i == 0 {
				m.CommonLabels[k] = v
			} else if m.CommonLabels[k] != v {
				delete(m.CommonLabels, k)
			}
		}
	}
	for _, a := range alerts {
		for k := range m.CommonLabels {
			if _, ok := a.Labels[k]; !ok {
				delete(m.CommonLabels, k)
			}
		}
	}
	return m
}

func body(t testing.TB, m *Message) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// delivery is what the webhook would put in the inbox for m.
func delivery(t testing.TB, m *Message) inbox.Delivery {
	return inbox.Delivery{ID: DeliveryID(m), Source: Source, Body: body(t, m),
		Meta: map[string]string{"order_key": OrderKey(m.GroupKey)}, ReceivedAt: t0.Add(time.Minute), Attempts: 1}
}

// counter is an incidents.Observer that counts, per incident, the change
// notifications it receives and the alert events in them: what the Slack
// adapter would turn into writes.
type counter struct {
	mu     sync.Mutex
	calls  map[string]int
	events map[string][]incidents.Event
}

func newCounter() *counter {
	return &counter{calls: map[string]int{}, events: map[string][]incidents.Event{}}
}

func (c *counter) Observe(_ context.Context, inc *incidents.Incident, events []incidents.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[inc.ID]++
	c.events[inc.ID] = append(c.events[inc.ID], events...)
}

func (c *counter) of(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.calls {
		n += k
	}
	return n
}

// world is a real Service over a bbolt store in a temporary directory.
type world struct {
	store *boltstore.Store
	svc   *incidents.Service
	seen  *counter
}

func newWorld(t testing.TB, opts boltstore.Options) *world {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "breadcrumb.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return newWorldOver(st, st)
}

func newWorldOver(st incidents.Store, bolt *boltstore.Store) *world {
	n := 0
	var mu sync.Mutex
	svc := incidents.NewService(st, incidents.Options{
		Now: func() time.Time { return t0.Add(2 * time.Minute) },
		NewID: func(time.Time) string {
			mu.Lock()
			defer mu.Unlock()
			n++
			return fmt.Sprintf("INC-%04d", n)
		},
	})
	w := &world{store: bolt, svc: svc, seen: newCounter()}
	svc.Subscribe(w.seen)
	return w
}

// incidentsOf lists every incident, oldest first.
func (w *world) incidents(t testing.TB) []*incidents.Incident {
	t.Helper()
	list, err := w.svc.List(context.Background(), incidents.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

func (w *world) timeline(t testing.TB, id string) []incidents.Event {
	t.Helper()
	events, err := w.svc.Timeline(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func countTypes(events []incidents.Event) map[incidents.EventType]int {
	out := map[incidents.EventType]int{}
	for _, e := range events {
		out[e.Type]++
	}
	return out
}
