package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// zone is not UTC, so that a store which keeps the caller's location, or
// drops the offset, is caught.
var zone = time.FixedZone("CET", 60*60)

// t0 has microseconds, the precision every store must keep.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589_793_000, zone)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// newIncident returns a small valid incident, created at created.
func newIncident(id string, created time.Time) *incidents.Incident {
	return &incidents.Incident{
		ID:        id,
		Title:     "Checkout is slow (" + id + ")",
		Status:    incidents.StatusTriggered,
		Source:    "cli",
		CreatedAt: created,
		UpdatedAt: created,
	}
}

// fullIncident returns an incident with every field set.
func fullIncident(id string) *incidents.Incident {
	return &incidents.Incident{
		ID:       id,
		Title:    "Checkout p99 above 2s",
		Summary:  "Payments API latency; card authorisations time out.",
		Severity: 2,
		Status:   incidents.StatusMitigated,
		Source:   "alertmanager",
		Service:  "checkout",
		Refs: map[string]string{
			incidents.RefPagerDutyIncident: "Q1W2E3R4T5",
			incidents.RefAlertmanagerGroup: `{}:{alertname="CheckoutLatency"}`,
		},
		Roles: map[string]string{
			incidents.RoleCommander: "U001",
			incidents.RoleComms:     "U002",
			incidents.RoleScribe:    "U003",
		},
		Responders: []string{"U001", "U002", "U003", "U004"},
		Runbook: &incidents.RunbookRef{
			ID:     "checkout-latency",
			Source: "git",
			Path:   "runbooks/checkout/latency.md",
			Title:  "Checkout latency",
			Commit: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
			Reason: "alertname CheckoutLatency matches",
		},
		Steps: []incidents.StepProgress{
			{Number: 1, Title: "Check the dashboard", State: incidents.StepDone, Actor: "U001", At: at(3 * time.Minute), Note: "p99 at 2.4s"},
			{Number: 2, Title: "Fail over the card processor", State: incidents.StepSkipped, Actor: "U002", At: at(5 * time.Minute)},
			{Number: 3, Title: "Scale the API", State: incidents.StepPending},
		},
		Home: incidents.Home{
			Channel: "C0INCIDENTS",
			Thread:  "1741940813.589793",
			Header:  "1741940814.000100",
		},
		CreatedAt:      t0,
		AcknowledgedAt: at(2 * time.Minute),
		MitigatedAt:    at(9 * time.Minute),
		UpdatedAt:      at(9*time.Minute + 1234*time.Microsecond),
	}
}

// event returns a valid note event with key k, which happened at when.
func event(k string, when time.Time) incidents.Event {
	return incidents.Event{
		Key:        k,
		Type:       incidents.EventNote,
		At:         when,
		RecordedAt: when.Add(1500 * time.Microsecond),
		Actor:      "U001",
		Source:     "slack",
		Text:       "note " + k,
	}
}

// events returns one event per key, a second apart.
func events(keys ...string) []incidents.Event {
	out := make([]incidents.Event, len(keys))
	for i, k := range keys {
		out[i] = event(k, at(time.Duration(i)*time.Second))
	}
	return out
}

// fullEvents returns events with every field set.
func fullEvents() []incidents.Event {
	return []incidents.Event{
		{
			Key: "am-1", Type: incidents.EventAlertFired, At: t0, RecordedAt: at(250 * time.Microsecond),
			Actor: "alertmanager", Source: "alertmanager", Text: "CheckoutLatency firing",
			Data: map[string]string{"alert": "CheckoutLatency", "fingerprint": "3f2a9c0d1e"},
		},
		{
			Key: "slack-1741940933.000200", Type: incidents.EventStatusChanged, At: at(2 * time.Minute), RecordedAt: at(2*time.Minute + time.Millisecond),
			Actor: "U001", Source: "slack",
			Data: map[string]string{"from": "triggered", "to": "acknowledged"},
		},
	}
}

// mustCreate creates inc with evs, or stops the test.
func mustCreate(t *testing.T, s incidents.Store, inc *incidents.Incident, evs ...incidents.Event) {
	t.Helper()
	if err := s.Create(t.Context(), inc, evs); err != nil {
		t.Fatalf("Create(%s) = %v, want nil", inc.ID, err)
	}
}

// mustGet returns the stored incident, or stops the test.
func mustGet(t *testing.T, s incidents.Store, id string) *incidents.Incident {
	t.Helper()
	inc, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s) = %v, want nil", id, err)
	}
	return inc
}

// allEvents returns the whole timeline, or stops the test.
func allEvents(t *testing.T, s incidents.Store, id string) []incidents.Event {
	t.Helper()
	evs, err := s.Events(t.Context(), id, 0, 0)
	if err != nil {
		t.Fatalf("Events(%s, 0, 0) = %v, want nil", id, err)
	}
	return evs
}

// keys lists the events' keys in order.
func keys(evs []incidents.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Key
	}
	return out
}

// seqs lists the events' Seq in order.
func seqs(evs []incidents.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

// ids lists the incidents' IDs in order.
func ids(incs []*incidents.Incident) []string {
	out := make([]string, len(incs))
	for i, inc := range incs {
		out[i] = inc.ID
	}
	return out
}

// seqRange returns from, from+1, ..., to.
func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// checkErr reports a failure unless errors.Is(err, want); want nil means
// no error.
func checkErr(t *testing.T, call string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s = %v, want nil", call, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s = %v, want an error that is %v", call, err, want)
	}
}

// checkIncident reports every field of got that differs from want, with
// times compared as instants, and every time of got that is not in UTC.
func checkIncident(t *testing.T, got, want *incidents.Incident) {
	t.Helper()
	if got == nil {
		t.Errorf("got a nil incident, want %s", want.ID)
		return
	}
	for _, d := range diffFields(utcIncident(got), utcIncident(want)) {
		t.Errorf("incident %s: %s", want.ID, d)
	}
	for _, f := range incidentTimes(got) {
		if f.t.Location() != time.UTC {
			t.Errorf("incident %s: %s is in %v, want UTC", want.ID, f.name, f.t.Location())
		}
	}
}

// checkEvents reports every difference between got and want, events
// compared field by field as in checkIncident.
func checkEvents(t *testing.T, got, want []incidents.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d events %q, want %d %q", len(got), keys(got), len(want), keys(want))
		return
	}
	for i := range got {
		for _, d := range diffFields(utcEvent(got[i]), utcEvent(want[i])) {
			t.Errorf("event %d (%s): %s", i, want[i].Key, d)
		}
		for name, tm := range map[string]time.Time{"At": got[i].At, "RecordedAt": got[i].RecordedAt} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Errorf("event %d (%s): %s is in %v, want UTC", i, want[i].Key, name, tm.Location())
			}
		}
	}
}

// stored returns evs as a store must keep them in incident id's
// timeline, numbered from firstSeq.
func stored(id string, firstSeq int64, evs ...incidents.Event) []incidents.Event {
	out := make([]incidents.Event, len(evs))
	for i, e := range evs {
		e.IncidentID = id
		e.Seq = firstSeq + int64(i)
		out[i] = e
	}
	return out
}

type namedTime struct {
	name string
	t    time.Time
}

// incidentTimes lists the incident's non-zero times.
func incidentTimes(inc *incidents.Incident) []namedTime {
	all := []namedTime{
		{"CreatedAt", inc.CreatedAt},
		{"AcknowledgedAt", inc.AcknowledgedAt},
		{"MitigatedAt", inc.MitigatedAt},
		{"ResolvedAt", inc.ResolvedAt},
		{"UpdatedAt", inc.UpdatedAt},
	}
	for i, st := range inc.Steps {
		all = append(all, namedTime{fmt.Sprintf("Steps[%d].At", i), st.At})
	}
	return slices.DeleteFunc(all, func(n namedTime) bool { return n.t.IsZero() })
}

// utcIncident returns a copy of inc with its times in UTC, so that equal
// instants encode alike.
func utcIncident(inc *incidents.Incident) *incidents.Incident {
	c := inc.Clone()
	c.CreatedAt = c.CreatedAt.UTC()
	c.AcknowledgedAt = c.AcknowledgedAt.UTC()
	c.MitigatedAt = c.MitigatedAt.UTC()
	c.ResolvedAt = c.ResolvedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	for i := range c.Steps {
		c.Steps[i].At = c.Steps[i].At.UTC()
	}
	return c
}

func utcEvent(e incidents.Event) incidents.Event {
	e.At = e.At.UTC()
	e.RecordedAt = e.RecordedAt.UTC()
	return e
}

// diffFields compares the JSON encodings of got and want field by field,
// so that a nil and an empty map or slice are alike, and says which
// fields differ.
func diffFields(got, want any) []string {
	g, w := fields(got), fields(want)
	var diffs []string
	for _, name := range unionKeys(g, w) {
		if gv, wv := g[name], w[name]; string(gv) != string(wv) {
			diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", name, orNone(gv), orNone(wv)))
		}
	}
	return diffs
}

func fields(v any) map[string]json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("storetest: encoding %T: %v", v, err))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("storetest: decoding %T: %v", v, err))
	}
	return m
}

func unionKeys(a, b map[string]json.RawMessage) []string {
	var ks []string
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

func orNone(v json.RawMessage) string {
	if v == nil {
		return "(none)"
	}
	return string(v)
}
