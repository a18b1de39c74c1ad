package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// RunConformanceTests runs the suite against the store that open returns.
// Each subtest calls open once and expects a fresh, empty store; open
// registers the store's cleanup with t.Cleanup.
func RunConformanceTests(t *testing.T, open func(t *testing.T) incidents.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s incidents.Store)
	}{
		{"create then get returns every field", testCreateRoundTrip},
		{"the store keeps its own copy", testOwnCopy},
		{"create with a taken ID is a conflict", testCreateTakenID},
		{"create with a taken reference is a conflict and stores nothing", testCreateTakenRef},
		{"create rejects what is invalid and stores nothing", testCreateInvalid},
		{"get of an unknown incident is not found", testGetUnknown},
		{"update stores the incident and bumps its version", testUpdate},
		{"update with a stale version is a conflict and changes nothing", testUpdateStale},
		{"update rejects what is invalid and changes nothing", testUpdateInvalid},
		{"update and append of an unknown incident are not found", testUpdateAppendUnknown},
		{"update and append leave out keys already in the timeline", testDedup},
		{"a key on another incident is stored", testKeyOnAnotherIncident},
		{"append rejects an invalid event and stores nothing", testAppendInvalid},
		{"append leaves the incident as it was", testAppendKeepsIncident},
		{"events are read in order page by page", testEventsPaging},
		{"events of an unknown incident are not found", testEventsUnknown},
		{"has event reports the keys of that timeline only", testHasEvent},
		{"list selects by each filter field newest created first", testList},
		{"list sees updates", testListSeesUpdates},
		{"find by ref returns the holder", testFindByRef},
		{"claim is first once per key until its ttl passes", testClaim},
		{"concurrent read-modify-write updates lose nothing", testConcurrentUpdates},
		{"concurrent appends of the same events store each once", testConcurrentAppends},
		{"concurrent claims of one key have one winner", testConcurrentClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, open(t))
		})
	}
}

func testCreateRoundTrip(t *testing.T, s incidents.Store) {
	inc, evs := fullIncident("INC-1"), fullEvents()
	mustCreate(t, s, inc, evs...)
	if inc.Version != 1 {
		t.Errorf("after Create, inc.Version = %d, want 1", inc.Version)
	}

	want := fullIncident("INC-1")
	want.Version = 1
	checkIncident(t, mustGet(t, s, "INC-1"), want)
	checkEvents(t, allEvents(t, s, "INC-1"), stored("INC-1", 1, fullEvents()...))

	// An incident with only what Validate asks for round-trips too.
	min := &incidents.Incident{ID: "INC-2", Title: "t", Status: incidents.StatusTriggered}
	mustCreate(t, s, min)
	wantMin := &incidents.Incident{ID: "INC-2", Title: "t", Status: incidents.StatusTriggered, Version: 1}
	checkIncident(t, mustGet(t, s, "INC-2"), wantMin)
	if got := allEvents(t, s, "INC-2"); len(got) != 0 {
		t.Errorf("Events(INC-2) = %q, want none", keys(got))
	}
}

func testOwnCopy(t *testing.T, s incidents.Store) {
	inc, evs := fullIncident("INC-1"), fullEvents()
	mustCreate(t, s, inc, evs...)

	// Change everything the caller still holds.
	inc.Refs["other"], inc.Roles[incidents.RoleCommander] = "x", "U999"
	inc.Responders[0], inc.Steps[0].State, inc.Runbook.Title = "U999", incidents.StepPending, "changed"
	evs[0].Data["alert"], evs[0].Text = "changed", "changed"

	got := mustGet(t, s, "INC-1")
	want := fullIncident("INC-1")
	want.Version = 1
	checkIncident(t, got, want)
	checkEvents(t, allEvents(t, s, "INC-1"), stored("INC-1", 1, fullEvents()...))

	// Change what Get returned.
	got.Refs["other"], got.Roles[incidents.RoleCommander] = "x", "U999"
	got.Responders[0], got.Steps[0].State, got.Runbook.Title = "U999", incidents.StepPending, "changed"
	checkIncident(t, mustGet(t, s, "INC-1"), want)
}

func testCreateTakenID(t *testing.T, s incidents.Store) {
	mustCreate(t, s, newIncident("INC-1", t0), events("a")...)

	again := newIncident("INC-1", at(time.Hour))
	again.Title = "Another title"
	err := s.Create(t.Context(), again, events("b"))
	checkErr(t, "second Create(INC-1)", err, incidents.ErrConflict)

	want := newIncident("INC-1", t0)
	want.Version = 1
	checkIncident(t, mustGet(t, s, "INC-1"), want)
	if got := keys(allEvents(t, s, "INC-1")); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Events(INC-1) keys = %q, want [a]", got)
	}
}

func testCreateTakenRef(t *testing.T, s incidents.Store) {
	a := newIncident("INC-A", t0)
	a.Refs = map[string]string{incidents.RefPagerDutyIncident: "P1"}
	mustCreate(t, s, a)

	b := newIncident("INC-B", at(time.Minute))
	b.Refs = map[string]string{incidents.RefPagerDutyIncident: "P1", incidents.RefAlertmanagerGroup: "G2"}
	err := s.Create(t.Context(), b, events("b1"))
	checkErr(t, "Create(INC-B) with INC-A's reference", err, incidents.ErrConflict)
	if b.Version != 0 {
		t.Errorf("after a failed Create, inc.Version = %d, want 0", b.Version)
	}

	_, err = s.Get(t.Context(), "INC-B")
	checkErr(t, "Get(INC-B)", err, incidents.ErrNotFound)
	_, err = s.Events(t.Context(), "INC-B", 0, 0)
	checkErr(t, "Events(INC-B)", err, incidents.ErrNotFound)
	_, err = s.FindByRef(t.Context(), incidents.RefAlertmanagerGroup, "G2")
	checkErr(t, "FindByRef(G2), the reference of the refused incident", err, incidents.ErrNotFound)
	if got, err := s.FindByRef(t.Context(), incidents.RefPagerDutyIncident, "P1"); err != nil || got.ID != "INC-A" {
		t.Errorf("FindByRef(P1) = %v, %v, want INC-A", got, err)
	}
	if got, err := s.List(t.Context(), incidents.Filter{}); err != nil || !slices.Equal(ids(got), []string{"INC-A"}) {
		t.Errorf("List() = %q, %v, want [INC-A]", ids(got), err)
	}

	// The refused ID and the unused reference are still free.
	b.Refs = map[string]string{incidents.RefAlertmanagerGroup: "G2"}
	mustCreate(t, s, b)
}

func testCreateInvalid(t *testing.T, s incidents.Store) {
	tests := []struct {
		name   string
		change func(inc *incidents.Incident, evs []incidents.Event) []incidents.Event
	}{
		{"an incident without a title", func(inc *incidents.Incident, evs []incidents.Event) []incidents.Event {
			inc.Title = ""
			return evs
		}},
		{"an incident with an unknown status", func(inc *incidents.Incident, evs []incidents.Event) []incidents.Event {
			inc.Status = "closed"
			return evs
		}},
		{"an incident with severity 6", func(inc *incidents.Incident, evs []incidents.Event) []incidents.Event {
			inc.Severity = 6
			return evs
		}},
		{"an incident with a version", func(inc *incidents.Incident, evs []incidents.Event) []incidents.Event {
			inc.Version = 1
			return evs
		}},
		{"an event without a key", func(inc *incidents.Incident, evs []incidents.Event) []incidents.Event {
			evs[1].Key = ""
			return evs
		}},
		{"an event without a type", func(inc *incidents.Incident, evs []incidents.Event) []incidents.Event {
			evs[1].Type = ""
			return evs
		}},
		{"an event without a time", func(inc *incidents.Incident, evs []incidents.Event) []incidents.Event {
			evs[1].At = time.Time{}
			return evs
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := fullIncident("INC-1")
			evs := tt.change(inc, events("a", "b"))
			err := s.Create(t.Context(), inc, evs)
			checkErr(t, "Create", err, incidents.ErrInvalid)
			_, err = s.Get(t.Context(), "INC-1")
			checkErr(t, "Get(INC-1) after the refused Create", err, incidents.ErrNotFound)
			_, err = s.FindByRef(t.Context(), incidents.RefPagerDutyIncident, "Q1W2E3R4T5")
			checkErr(t, "FindByRef after the refused Create", err, incidents.ErrNotFound)
		})
	}
	err := s.Create(t.Context(), &incidents.Incident{Title: "t", Status: incidents.StatusTriggered}, nil)
	checkErr(t, "Create of an incident without an ID", err, incidents.ErrInvalid)
}

func testGetUnknown(t *testing.T, s incidents.Store) {
	mustCreate(t, s, newIncident("INC-1", t0))
	for _, id := range []string{"INC-2", "inc-1", "INC-", ""} {
		got, err := s.Get(t.Context(), id)
		checkErr(t, fmt.Sprintf("Get(%q)", id), err, incidents.ErrNotFound)
		if got != nil {
			t.Errorf("Get(%q) returned incident %s with its error", id, got.ID)
		}
	}
}

func testUpdate(t *testing.T, s incidents.Store) {
	inc := newIncident("INC-1", t0)
	mustCreate(t, s, inc, events("declared")...)

	inc = mustGet(t, s, "INC-1")
	inc.Status, inc.AcknowledgedAt, inc.UpdatedAt = incidents.StatusAcknowledged, at(time.Minute), at(time.Minute)
	inc.Roles = map[string]string{incidents.RoleCommander: "U001"}
	inc.Responders = []string{"U001"}
	inc.Home = incidents.Home{Channel: "C1", Header: "1741940813.000100"}
	ack := event("ack", at(time.Minute))
	got, err := s.Update(t.Context(), inc, []incidents.Event{ack})
	if err != nil {
		t.Fatalf("Update(version 1) = %v, want nil", err)
	}
	if inc.Version != 2 {
		t.Errorf("after Update, inc.Version = %d, want 2", inc.Version)
	}
	checkEvents(t, got, stored("INC-1", 2, ack))
	want := inc.Clone()
	checkIncident(t, mustGet(t, s, "INC-1"), want)

	// Version 2 is now the stored one; an update with no events is fine.
	inc.Summary, inc.Severity, inc.Service = "more", 1, "checkout"
	got, err = s.Update(t.Context(), inc, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("Update(version 2, no events) = %q, %v, want none, nil", keys(got), err)
	}
	if inc.Version != 3 {
		t.Errorf("after the second Update, inc.Version = %d, want 3", inc.Version)
	}
	checkIncident(t, mustGet(t, s, "INC-1"), inc)
	checkEvents(t, allEvents(t, s, "INC-1"), stored("INC-1", 1, event("declared", t0), ack))
}

func testUpdateStale(t *testing.T, s incidents.Store) {
	mustCreate(t, s, newIncident("INC-1", t0), events("declared")...)
	fresh, stale := mustGet(t, s, "INC-1"), mustGet(t, s, "INC-1")

	fresh.Summary = "fresh"
	if _, err := s.Update(t.Context(), fresh, events("fresh")); err != nil {
		t.Fatalf("Update(fresh) = %v, want nil", err)
	}
	wantEvents := allEvents(t, s, "INC-1")

	tests := []struct {
		name    string
		version int64
	}{
		{"a version behind", 1},
		{"a version ahead", 3},
		{"version 0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := stale.Clone()
			inc.Version = tt.version
			inc.Summary, inc.Status = "stale", incidents.StatusResolved
			got, err := s.Update(t.Context(), inc, events("stale"))
			checkErr(t, "Update", err, incidents.ErrConflict)
			if len(got) != 0 {
				t.Errorf("Update returned events %q with its conflict", keys(got))
			}
			if inc.Version != tt.version {
				t.Errorf("after a conflict, inc.Version = %d, want %d as it was", inc.Version, tt.version)
			}
			checkIncident(t, mustGet(t, s, "INC-1"), fresh)
			checkEvents(t, allEvents(t, s, "INC-1"), wantEvents)
			if has, err := s.HasEvent(t.Context(), "INC-1", "stale"); err != nil || has {
				t.Errorf("HasEvent(stale) = %t, %v, want false, nil", has, err)
			}
		})
	}
}

func testUpdateInvalid(t *testing.T, s incidents.Store) {
	mustCreate(t, s, newIncident("INC-1", t0), events("declared")...)
	want := mustGet(t, s, "INC-1")
	wantEvents := allEvents(t, s, "INC-1")

	tests := []struct {
		name   string
		change func(inc *incidents.Incident) []incidents.Event
	}{
		{"an incident without a title", func(inc *incidents.Incident) []incidents.Event {
			inc.Title = ""
			return events("x")
		}},
		{"an incident with an unknown status", func(inc *incidents.Incident) []incidents.Event {
			inc.Status = "closed"
			return events("x")
		}},
		{"an event without a key", func(inc *incidents.Incident) []incidents.Event {
			evs := events("x", "y")
			evs[1].Key = ""
			return evs
		}},
		{"an event without a time", func(inc *incidents.Incident) []incidents.Event {
			evs := events("x", "y")
			evs[1].At = time.Time{}
			return evs
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := want.Clone()
			inc.Summary = "changed"
			evs := tt.change(inc)
			_, err := s.Update(t.Context(), inc, evs)
			checkErr(t, "Update", err, incidents.ErrInvalid)
			checkIncident(t, mustGet(t, s, "INC-1"), want)
			checkEvents(t, allEvents(t, s, "INC-1"), wantEvents)
		})
	}
}

func testUpdateAppendUnknown(t *testing.T, s incidents.Store) {
	mustCreate(t, s, newIncident("INC-1", t0))
	inc := newIncident("INC-2", t0)
	inc.Version = 1
	_, err := s.Update(t.Context(), inc, events("a"))
	checkErr(t, "Update(INC-2)", err, incidents.ErrNotFound)
	_, err = s.Append(t.Context(), "INC-2", events("a"))
	checkErr(t, "Append(INC-2)", err, incidents.ErrNotFound)
	_, err = s.Get(t.Context(), "INC-2")
	checkErr(t, "Get(INC-2) after them", err, incidents.ErrNotFound)
}

func testDedup(t *testing.T, s incidents.Store) {
	ctx := t.Context()
	inc := newIncident("INC-1", t0)
	mustCreate(t, s, inc, events("e1")...)
	ev := func(k string) incidents.Event { return event(k, at(time.Minute)) }

	steps := []struct {
		name   string
		update bool // Update, else Append
		keys   []string
		want   []incidents.Event // stored and returned
	}{
		{"update leaves out a key stored by create", true, []string{"e1", "e2", "e3"}, stored("INC-1", 2, ev("e2"), ev("e3"))},
		{"append leaves out a key stored by update", false, []string{"e3", "e4"}, stored("INC-1", 4, ev("e4"))},
		{"append of known keys only stores nothing", false, []string{"e1", "e4"}, nil},
		{"update of known keys only stores nothing", true, []string{"e2"}, nil},
		{"a key twice in one append is stored once", false, []string{"e5", "e5", "e6"}, stored("INC-1", 5, ev("e5"), ev("e6"))},
		{"a key twice in one update is stored once", true, []string{"e7", "e7"}, stored("INC-1", 7, ev("e7"))},
		{"append of nothing stores nothing", false, nil, nil},
	}
	var want []incidents.Event
	want = append(want, stored("INC-1", 1, event("e1", t0))...)
	for _, st := range steps {
		var evs []incidents.Event
		for _, k := range st.keys {
			evs = append(evs, ev(k))
		}
		var got []incidents.Event
		var err error
		if st.update {
			got, err = s.Update(ctx, inc, evs)
		} else {
			got, err = s.Append(ctx, "INC-1", evs)
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !slices.Equal(keys(got), keys(st.want)) || !slices.Equal(seqs(got), seqs(st.want)) {
			t.Errorf("%s: returned keys %q seqs %v, want %q %v", st.name, keys(got), seqs(got), keys(st.want), seqs(st.want))
		}
		checkEvents(t, got, st.want)
		want = append(want, st.want...)
	}
	checkEvents(t, allEvents(t, s, "INC-1"), want)
	if got := mustGet(t, s, "INC-1").Version; got != 4 {
		t.Errorf("after 3 updates, Version = %d, want 4 (an update whose events were all known still counts)", got)
	}
}

func testKeyOnAnotherIncident(t *testing.T, s incidents.Store) {
	mustCreate(t, s, newIncident("INC-1", t0), events("shared", "a")...)
	mustCreate(t, s, newIncident("INC-2", t0), events("b")...)

	got, err := s.Append(t.Context(), "INC-2", events("shared"))
	if err != nil {
		t.Fatalf("Append(INC-2, shared) = %v", err)
	}
	checkEvents(t, got, stored("INC-2", 2, event("shared", t0)))

	inc3 := newIncident("INC-3", t0)
	mustCreate(t, s, inc3, events("c")...)
	got, err = s.Update(t.Context(), inc3, events("shared"))
	if err != nil {
		t.Fatalf("Update(INC-3, shared) = %v", err)
	}
	checkEvents(t, got, stored("INC-3", 2, event("shared", t0)))

	checkEvents(t, allEvents(t, s, "INC-1"), stored("INC-1", 1, events("shared", "a")...))
}

func testAppendInvalid(t *testing.T, s incidents.Store) {
	mustCreate(t, s, newIncident("INC-1", t0), events("declared")...)
	wantEvents := allEvents(t, s, "INC-1")

	tests := []struct {
		name  string
		event func(e *incidents.Event)
	}{
		{"without a key", func(e *incidents.Event) { e.Key = "" }},
		{"without a type", func(e *incidents.Event) { e.Type = "" }},
		{"without a time", func(e *incidents.Event) { e.At = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := events("good", "bad")
			tt.event(&evs[1])
			got, err := s.Append(t.Context(), "INC-1", evs)
			checkErr(t, "Append", err, incidents.ErrInvalid)
			if len(got) != 0 {
				t.Errorf("Append returned events %q with its error", keys(got))
			}
			checkEvents(t, allEvents(t, s, "INC-1"), wantEvents)
		})
	}
}

func testAppendKeepsIncident(t *testing.T, s incidents.Store) {
	mustCreate(t, s, fullIncident("INC-1"))
	want := mustGet(t, s, "INC-1")
	if _, err := s.Append(t.Context(), "INC-1", events("a", "b")); err != nil {
		t.Fatalf("Append = %v", err)
	}
	checkIncident(t, mustGet(t, s, "INC-1"), want)
}

func testEventsPaging(t *testing.T, s incidents.Store) {
	mustCreate(t, s, newIncident("INC-1", t0), events("e1", "e2")...)
	for _, batch := range [][]string{{"e3"}, {"e4", "e5", "e6"}, {"e7"}} {
		if _, err := s.Append(t.Context(), "INC-1", events(batch...)); err != nil {
			t.Fatalf("Append(%q) = %v", batch, err)
		}
	}
	mustCreate(t, s, newIncident("INC-2", t0), events("other")...)

	tests := []struct {
		after int64
		limit int
		want  []int64
	}{
		{0, 0, seqRange(1, 7)},
		{0, 3, seqRange(1, 3)},
		{3, 3, seqRange(4, 6)},
		{6, 3, []int64{7}},
		{5, 0, []int64{6, 7}},
		{7, 0, nil},
		{7, 5, nil},
		{100, 0, nil},
		{0, 100, seqRange(1, 7)},
	}
	for _, tt := range tests {
		got, err := s.Events(t.Context(), "INC-1", tt.after, tt.limit)
		if err != nil {
			t.Errorf("Events(after %d, limit %d) = %v", tt.after, tt.limit, err)
			continue
		}
		if !slices.Equal(seqs(got), tt.want) {
			t.Errorf("Events(after %d, limit %d) seqs = %v, want %v", tt.after, tt.limit, seqs(got), tt.want)
		}
		for _, e := range got {
			if e.Key != "e"+strconv.FormatInt(e.Seq, 10) || e.IncidentID != "INC-1" {
				t.Errorf("Events(after %d, limit %d): seq %d is %s of %s, want e%d of INC-1", tt.after, tt.limit, e.Seq, e.Key, e.IncidentID, e.Seq)
			}
		}
	}

	// Reading the timeline page by page yields it whole.
	var paged []incidents.Event
	for after := int64(0); ; {
		page, err := s.Events(t.Context(), "INC-1", after, 2)
		if err != nil {
			t.Fatalf("Events(after %d, limit 2) = %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].Seq
	}
	checkEvents(t, paged, allEvents(t, s, "INC-1"))
}

func testEventsUnknown(t *testing.T, s incidents.Store) {
	mustCreate(t, s, newIncident("INC-1", t0), events("a")...)
	got, err := s.Events(t.Context(), "INC-2", 0, 0)
	checkErr(t, "Events(INC-2)", err, incidents.ErrNotFound)
	if len(got) != 0 {
		t.Errorf("Events(INC-2) returned %q with its error", keys(got))
	}
	// A known incident with an empty timeline is not an error.
	mustCreate(t, s, newIncident("INC-3", t0))
	if got, err := s.Events(t.Context(), "INC-3", 0, 0); err != nil || len(got) != 0 {
		t.Errorf("Events(INC-3), an empty timeline, = %q, %v, want none, nil", keys(got), err)
	}
}

func testHasEvent(t *testing.T, s incidents.Store) {
	mustCreate(t, s, newIncident("INC-1", t0), events("created")...)
	if _, err := s.Append(t.Context(), "INC-1", events("appended")); err != nil {
		t.Fatal(err)
	}
	inc := mustGet(t, s, "INC-1")
	if _, err := s.Update(t.Context(), inc, events("updated")); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, newIncident("INC-2", t0), events("elsewhere")...)

	tests := []struct {
		id, key string
		want    bool
	}{
		{"INC-1", "created", true},
		{"INC-1", "appended", true},
		{"INC-1", "updated", true},
		{"INC-1", "elsewhere", false},
		{"INC-1", "never", false},
		{"INC-1", "", false},
		{"INC-2", "elsewhere", true},
		{"INC-2", "created", false},
	}
	for _, tt := range tests {
		got, err := s.HasEvent(t.Context(), tt.id, tt.key)
		if err != nil || got != tt.want {
			t.Errorf("HasEvent(%s, %q) = %t, %v, want %t, nil", tt.id, tt.key, got, err, tt.want)
		}
	}
	if got, err := s.HasEvent(t.Context(), "INC-9", "created"); got {
		t.Errorf("HasEvent of an unknown incident = true, %v, want false or ErrNotFound", err)
	} else {
		checkErr(t, "HasEvent of an unknown incident (nil or ErrNotFound)", ignoreNil(err), incidents.ErrNotFound)
	}
}

// ignoreNil turns nil into ErrNotFound, for calls where either is right.
func ignoreNil(err error) error {
	if err == nil {
		return incidents.ErrNotFound
	}
	return err
}

func testList(t *testing.T, s incidents.Store) {
	type spec struct {
		id      string
		created time.Duration
		status  incidents.Status
		service string
	}
	// Created in another order than their creation times, so that a store
	// cannot lean on insertion order.
	specs := []spec{
		{"INC-3", 3 * time.Hour, incidents.StatusMitigated, "checkout"},
		{"INC-1", 1 * time.Hour, incidents.StatusResolved, "checkout"},
		{"INC-5", 5 * time.Hour, incidents.StatusTriggered, "search"},
		{"INC-0", 0, incidents.StatusResolved, ""},
		{"INC-4", 4 * time.Hour, incidents.StatusAcknowledged, "checkout"},
		{"INC-2", 2*time.Hour + time.Microsecond, incidents.StatusTriggered, "search"},
	}
	for _, sp := range specs {
		inc := newIncident(sp.id, at(sp.created))
		inc.Status, inc.Service = sp.status, sp.service
		mustCreate(t, s, inc)
	}

	tests := []struct {
		name string
		f    incidents.Filter
		want []string
	}{
		{"everything", incidents.Filter{}, []string{"INC-5", "INC-4", "INC-3", "INC-2", "INC-1", "INC-0"}},
		{"one status", incidents.Filter{Statuses: []incidents.Status{incidents.StatusResolved}}, []string{"INC-1", "INC-0"}},
		{"two statuses", incidents.Filter{Statuses: []incidents.Status{incidents.StatusAcknowledged, incidents.StatusTriggered}}, []string{"INC-5", "INC-4", "INC-2"}},
		{"open", incidents.Filter{Open: true}, []string{"INC-5", "INC-4", "INC-3", "INC-2"}},
		{"service", incidents.Filter{Service: "checkout"}, []string{"INC-4", "INC-3", "INC-1"}},
		{"unknown service", incidents.Filter{Service: "billing"}, nil},
		{"from, inclusive", incidents.Filter{From: at(3 * time.Hour)}, []string{"INC-5", "INC-4", "INC-3"}},
		{"to, exclusive", incidents.Filter{To: at(2*time.Hour + time.Microsecond)}, []string{"INC-1", "INC-0"}},
		{"to, a microsecond later", incidents.Filter{To: at(2*time.Hour + 2*time.Microsecond)}, []string{"INC-2", "INC-1", "INC-0"}},
		{"from and to", incidents.Filter{From: at(time.Hour), To: at(4 * time.Hour)}, []string{"INC-3", "INC-2", "INC-1"}},
		{"from and to in UTC", incidents.Filter{From: at(time.Hour).UTC(), To: at(4 * time.Hour).UTC()}, []string{"INC-3", "INC-2", "INC-1"}},
		{"limit", incidents.Filter{Limit: 2}, []string{"INC-5", "INC-4"}},
		{"limit above the count", incidents.Filter{Limit: 10}, []string{"INC-5", "INC-4", "INC-3", "INC-2", "INC-1", "INC-0"}},
		{"open, service and limit", incidents.Filter{Open: true, Service: "search", Limit: 1}, []string{"INC-5"}},
		{"status and open that exclude each other", incidents.Filter{Statuses: []incidents.Status{incidents.StatusResolved}, Open: true}, nil},
		{"every field", incidents.Filter{
			Statuses: []incidents.Status{incidents.StatusTriggered, incidents.StatusMitigated},
			Open:     true, Service: "search", From: at(time.Hour), To: at(5 * time.Hour), Limit: 5,
		}, []string{"INC-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(t.Context(), tt.f)
			if err != nil {
				t.Fatalf("List = %v", err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("List = %q, want %q", ids(got), tt.want)
			}
			for _, inc := range got {
				if inc.Version != 1 {
					t.Errorf("List: %s has Version %d, want 1", inc.ID, inc.Version)
				}
			}
		})
	}
}

func testListSeesUpdates(t *testing.T, s incidents.Store) {
	a, b := newIncident("INC-A", t0), newIncident("INC-B", at(time.Hour))
	a.Service, b.Service = "checkout", "checkout"
	mustCreate(t, s, a)
	mustCreate(t, s, b)

	b.Status, b.ResolvedAt, b.Service = incidents.StatusResolved, at(2*time.Hour), "search"
	if _, err := s.Update(t.Context(), b, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    incidents.Filter
		want []string
	}{
		{incidents.Filter{Open: true}, []string{"INC-A"}},
		{incidents.Filter{Statuses: []incidents.Status{incidents.StatusResolved}}, []string{"INC-B"}},
		{incidents.Filter{Service: "checkout"}, []string{"INC-A"}},
		{incidents.Filter{Service: "search"}, []string{"INC-B"}},
	}
	for _, tt := range tests {
		got, err := s.List(t.Context(), tt.f)
		if err != nil || !slices.Equal(ids(got), tt.want) {
			t.Errorf("List(%+v) = %q, %v, want %q", tt.f, ids(got), err, tt.want)
		}
	}
	got, err := s.List(t.Context(), incidents.Filter{Service: "search"})
	if err == nil && len(got) == 1 {
		checkIncident(t, got[0], b)
	}
}

func testFindByRef(t *testing.T, s incidents.Store) {
	a := fullIncident("INC-A")
	mustCreate(t, s, a)
	b := newIncident("INC-B", at(time.Hour))
	b.Refs = map[string]string{incidents.RefPagerDutyIncident: "P2"}
	mustCreate(t, s, b)

	tests := []struct {
		kind, value string
		want        string // "" for ErrNotFound
	}{
		{incidents.RefPagerDutyIncident, "Q1W2E3R4T5", "INC-A"},
		{incidents.RefAlertmanagerGroup, `{}:{alertname="CheckoutLatency"}`, "INC-A"},
		{incidents.RefPagerDutyIncident, "P2", "INC-B"},
		{incidents.RefAlertmanagerGroup, "P2", ""},
		{incidents.RefPagerDutyIncident, "P3", ""},
		{incidents.RefPagerDutyIncident, "p2", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		got, err := s.FindByRef(t.Context(), tt.kind, tt.value)
		call := fmt.Sprintf("FindByRef(%q, %q)", tt.kind, tt.value)
		if tt.want == "" {
			checkErr(t, call, err, incidents.ErrNotFound)
			continue
		}
		if err != nil || got == nil || got.ID != tt.want {
			t.Errorf("%s = %v, %v, want %s", call, got, err, tt.want)
			continue
		}
		if tt.want == "INC-A" {
			want := fullIncident("INC-A")
			want.Version = 1
			checkIncident(t, got, want)
		}
	}
}

// claimTTL is short, for the suite waits it out, and long enough for a
// store whose expiry has a granularity of one second.
const claimTTL = 1500 * time.Millisecond

func testClaim(t *testing.T, s incidents.Store) {
	ctx := t.Context()
	claim := func(key string, ttl time.Duration, want bool) {
		t.Helper()
		got, err := s.Claim(ctx, key, ttl)
		if err != nil || got != want {
			t.Errorf("Claim(%q, %v) = %t, %v, want %t, nil", key, ttl, got, err, want)
		}
	}
	for _, bad := range []struct {
		key string
		ttl time.Duration
	}{{"", time.Hour}, {"k", 0}, {"k", -time.Second}} {
		if _, err := s.Claim(ctx, bad.key, bad.ttl); !errors.Is(err, incidents.ErrInvalid) {
			t.Errorf("Claim(%q, %v): %v, want ErrInvalid", bad.key, bad.ttl, err)
		}
	}
	start := time.Now()
	claim("delivery-1", claimTTL, true)
	claim("delivery-1", claimTTL, false)
	claim("delivery-1", time.Hour, false) // a longer ttl does not take it over
	claim("delivery-2", claimTTL, true)
	claim("long", time.Hour, true)
	claim("DELIVERY-1", claimTTL, true) // keys are case-sensitive
	if elapsed := time.Since(start); elapsed > claimTTL/2 {
		t.Fatalf("the first claims took %v, too long to trust the checks of expiry that follow", elapsed)
	}

	time.Sleep(time.Until(start.Add(claimTTL + 150*time.Millisecond)))
	claim("delivery-1", claimTTL, true) // expired: reclaimable
	claim("delivery-1", claimTTL, false)
	claim("delivery-2", time.Hour, true)
	claim("delivery-2", time.Hour, false)
	claim("long", time.Hour, false)
}

// Sizes of the concurrency tests.
const (
	writers        = 8
	updatesEach    = 50
	concurrentKeys = 200
)

func testConcurrentUpdates(t *testing.T, s incidents.Store) {
	ctx := t.Context()
	inc := newIncident("INC-1", t0)
	inc.Summary = "0"
	mustCreate(t, s, inc)

	var conflicts atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range updatesEach {
				for try := 0; ; try++ {
					if try == 10_000 {
						t.Errorf("writer %d, update %d: still conflicting after %d tries", w, i, try)
						return
					}
					cur, err := s.Get(ctx, "INC-1")
					if err != nil {
						t.Errorf("writer %d: Get = %v", w, err)
						return
					}
					n, err := strconv.Atoi(cur.Summary)
					if err != nil {
						t.Errorf("writer %d: the counter is %q: %v", w, cur.Summary, err)
						return
					}
					cur.Summary = strconv.Itoa(n + 1)
					runtime.Gosched() // widen the window between read and write
					key := fmt.Sprintf("w%d-%d", w, i)
					got, err := s.Update(ctx, cur, events(key))
					if errors.Is(err, incidents.ErrConflict) {
						conflicts.Add(1)
						continue
					}
					if err != nil {
						t.Errorf("writer %d: Update = %v", w, err)
						return
					}
					if len(got) != 1 || got[0].Key != key {
						t.Errorf("writer %d: Update stored %q, want [%s]", w, keys(got), key)
					}
					break
				}
			}
		})
	}
	wg.Wait()

	got := mustGet(t, s, "INC-1")
	total := writers * updatesEach
	if got.Summary != strconv.Itoa(total) || got.Version != int64(total+1) {
		t.Errorf("after %d updates by %d writers (%d conflicts), counter = %s and Version = %d, want %d and %d",
			total, writers, conflicts.Load(), got.Summary, got.Version, total, total+1)
	}
	evs := allEvents(t, s, "INC-1")
	if !slices.Equal(seqs(evs), seqRange(1, int64(total))) {
		t.Errorf("the timeline's seqs are %v, want 1 to %d", seqs(evs), total)
	}
	checkUniqueKeys(t, evs)
}

func testConcurrentAppends(t *testing.T, s incidents.Store) {
	ctx := t.Context()
	mustCreate(t, s, newIncident("INC-1", t0))
	all := make([]incidents.Event, concurrentKeys)
	for i := range all {
		all[i] = event(fmt.Sprintf("k%03d", i), at(time.Duration(i)*time.Millisecond))
	}

	var mu sync.Mutex
	returned := map[string]int{} // key → how many Appends returned it
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			mine := slices.Clone(all)
			rng.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
			for len(mine) > 0 {
				n := min(1+rng.IntN(4), len(mine)) // batches of 1 to 4
				got, err := s.Append(ctx, "INC-1", mine[:n])
				if err != nil {
					t.Errorf("writer %d: Append = %v", w, err)
					return
				}
				mu.Lock()
				for _, e := range got {
					returned[e.Key]++
				}
				mu.Unlock()
				mine = mine[n:]
			}
		})
	}
	wg.Wait()

	evs := allEvents(t, s, "INC-1")
	if !slices.Equal(seqs(evs), seqRange(1, concurrentKeys)) {
		t.Errorf("the timeline's seqs are %v, want 1 to %d", seqs(evs), concurrentKeys)
	}
	checkUniqueKeys(t, evs)
	for _, e := range all {
		if n := returned[e.Key]; n != 1 {
			t.Errorf("Appends returned %s %d times, want once: only the call that stored it returns it", e.Key, n)
		}
	}
}

func testConcurrentClaims(t *testing.T, s incidents.Store) {
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			ok, err := s.Claim(t.Context(), "webhook-7", time.Hour)
			if err != nil {
				t.Errorf("Claim = %v", err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Errorf("%d concurrent claims of one key: %d reported first, want 1", writers, got)
	}
}

// checkUniqueKeys reports keys that appear more than once.
func checkUniqueKeys(t *testing.T, evs []incidents.Event) {
	t.Helper()
	seen := map[string]int64{}
	for _, e := range evs {
		if first, ok := seen[e.Key]; ok {
			t.Errorf("key %s is stored twice, at seq %d and %d", e.Key, first, e.Seq)
		}
		seen[e.Key] = e.Seq
	}
}
