package incidents_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
)

// clock is an injected clock that tests move by hand.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time               { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Advance(d time.Duration)      { c.t.Add(int64(d)) }
func (c *clock) At(d time.Duration) time.Time { return time.Unix(0, c.t.Load()).Add(d).UTC() }

func openStore(t *testing.T) incidents.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newService(t *testing.T) (*incidents.Service, *clock) {
	t.Helper()
	c := newClock()
	n := 0
	var mu sync.Mutex
	svc := incidents.NewService(openStore(t), incidents.Options{Now: c.Now, NewID: func(time.Time) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("INC-%d", n)
	}})
	return svc, c
}

var ctx = context.Background()

func declare(t *testing.T, svc *incidents.Service, steps int) *incidents.Incident {
	t.Helper()
	d := incidents.Declaration{Title: "Payments 5xx", Severity: 2, Service: "payments-api", Source: "alertmanager",
		Refs:    map[string]string{incidents.RefAlertmanagerGroup: "{}:{alertname=\"PaymentsAPIHigh5xxRate\"}"},
		Runbook: &incidents.RunbookRef{ID: "examples:payments/5xx.md", Title: "Payments API 5xx spike", Commit: "abc"}}
	for i := 1; i <= steps; i++ {
		d.Steps = append(d.Steps, incidents.StepProgress{Number: i, Title: fmt.Sprintf("Step %d", i)})
	}
	inc, created, err := svc.Declare(ctx, d, incidents.Action{Key: "am:delivery-1", Actor: "alertmanager", Source: "alertmanager"})
	if err != nil || !created {
		t.Fatalf("declare: created %v, err %v", created, err)
	}
	return inc
}

func TestDeclaringTwiceReturnsTheSameIncident(t *testing.T) {
	svc, _ := newService(t)
	first := declare(t, svc, 3)
	if first.Status != incidents.StatusTriggered || len(first.Steps) != 3 || first.Steps[0].State != incidents.StepPending {
		t.Fatalf("declared incident %+v", first)
	}
	again, created, err := svc.Declare(ctx, incidents.Declaration{Title: "Payments 5xx again",
		Refs: map[string]string{incidents.RefAlertmanagerGroup: "{}:{alertname=\"PaymentsAPIHigh5xxRate\"}"}}, incidents.Action{})
	if err != nil || created || again.ID != first.ID {
		t.Errorf("a second declaration with the same group key: %v, created %v, err %v; want the first incident", again.ID, created, err)
	}
	byKey, created, err := svc.Declare(ctx, incidents.Declaration{Title: "Other"}, incidents.Action{Key: "am:delivery-1"})
	if err != nil || created || byKey.ID != first.ID {
		t.Errorf("a redelivery with the same key: %v, created %v, err %v", byKey.ID, created, err)
	}
	events, err := svc.Timeline(ctx, first.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Type != incidents.EventDeclared || events[1].Type != incidents.EventRunbookAttached {
		t.Errorf("timeline %+v, want declared then runbook attached", events)
	}
}

func TestTransitions(t *testing.T) {
	tests := []struct {
		name    string
		path    []incidents.Status
		wantErr bool
	}{
		{"acknowledge, mitigate, resolve", []incidents.Status{"acknowledged", "mitigated", "resolved"}, false},
		{"resolve at once", []incidents.Status{"resolved"}, false},
		{"reopen after resolving", []incidents.Status{"resolved", "triggered", "acknowledged"}, false},
		{"unacknowledge", []incidents.Status{"acknowledged", "triggered"}, false},
		{"acknowledge twice", []incidents.Status{"acknowledged", "acknowledged"}, true},
		{"mitigate a resolved incident", []incidents.Status{"resolved", "mitigated"}, true},
		{"unknown status", []incidents.Status{"closed"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, c := newService(t)
			inc := declare(t, svc, 0)
			var err error
			for i, to := range tt.path {
				c.Advance(time.Minute)
				var got *incidents.Incident
				got, err = svc.Transition(ctx, inc.ID, to, incidents.Action{Key: fmt.Sprintf("k%d", i), Actor: "dana"})
				if err != nil {
					break
				}
				if got.Status != to {
					t.Fatalf("status %s after moving to %s", got.Status, to)
				}
			}
			if tt.wantErr != (err != nil) {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, incidents.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestTransitionTimesAndReopening(t *testing.T) {
	svc, c := newService(t)
	inc := declare(t, svc, 0)
	c.Advance(4 * time.Minute)
	ack, _ := svc.Transition(ctx, inc.ID, incidents.StatusAcknowledged, incidents.Action{Actor: "dana"})
	c.Advance(10 * time.Minute)
	res, _ := svc.Transition(ctx, inc.ID, incidents.StatusResolved, incidents.Action{Actor: "dana"})
	if ack == nil || res == nil {
		t.Fatal("transitions failed")
	}
	if got := res.AcknowledgedAt.Sub(res.CreatedAt); got != 4*time.Minute {
		t.Errorf("time to acknowledge %v, want 4m", got)
	}
	if got := res.ResolvedAt.Sub(res.CreatedAt); got != 14*time.Minute {
		t.Errorf("time to resolve %v, want 14m", got)
	}
	reopened, err := svc.Transition(ctx, inc.ID, incidents.StatusTriggered, incidents.Action{Actor: "dana", Text: "it came back"})
	if err != nil || !reopened.ResolvedAt.IsZero() || reopened.AcknowledgedAt.IsZero() {
		t.Errorf("reopened: %+v, %v; want resolved time cleared, acknowledgement kept", reopened, err)
	}
}

func TestARepeatedActionChangesNothing(t *testing.T) {
	svc, _ := newService(t)
	inc := declare(t, svc, 2)
	a := incidents.Action{Key: "slack:click-42", Actor: "dana", Source: "slack"}
	first, err := svc.Transition(ctx, inc.ID, incidents.StatusAcknowledged, a)
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.Transition(ctx, inc.ID, incidents.StatusAcknowledged, a)
	if err != nil {
		t.Fatalf("the same click again: %v, want no error and no change", err)
	}
	if second.Version != first.Version {
		t.Errorf("version moved from %d to %d on a repeated click", first.Version, second.Version)
	}
	if _, err := svc.Step(ctx, inc.ID, 1, incidents.StepDone, incidents.Action{Key: "slack:click-43", Actor: "dana"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Step(ctx, inc.ID, 1, incidents.StepDone, incidents.Action{Key: "slack:click-43", Actor: "dana"}); err != nil {
		t.Fatal(err)
	}
	events, _ := svc.Timeline(ctx, inc.ID, 0, 0)
	count := map[incidents.EventType]int{}
	for _, e := range events {
		count[e.Type]++
	}
	if count[incidents.EventStatusChanged] != 1 || count[incidents.EventStepDone] != 1 {
		t.Errorf("event counts %v, want one status change and one step done", count)
	}
}

func TestStepsRolesSeverityNotesAndPins(t *testing.T) {
	svc, c := newService(t)
	inc := declare(t, svc, 3)
	c.Advance(time.Minute)
	if _, err := svc.Step(ctx, inc.ID, 2, incidents.StepSkipped, incidents.Action{Actor: "dana", Text: "no replica"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Step(ctx, inc.ID, 9, incidents.StepDone, incidents.Action{Actor: "dana"}); !errors.Is(err, incidents.ErrInvalid) {
		t.Errorf("an unknown step: %v, want ErrInvalid", err)
	}
	got, err := svc.AssignRole(ctx, inc.ID, "commander", "@sam", incidents.Action{Actor: "dana"})
	if err != nil || got.Roles[incidents.RoleCommander] != "@sam" || len(got.Responders) != 1 {
		t.Errorf("assign: %+v, %v", got, err)
	}
	if _, err := svc.AssignRole(ctx, inc.ID, "pilot", "@sam", incidents.Action{}); !errors.Is(err, incidents.ErrInvalid) {
		t.Errorf("an unknown role: %v, want ErrInvalid", err)
	}
	if _, err := svc.SetSeverity(ctx, inc.ID, 7, incidents.Action{}); !errors.Is(err, incidents.ErrInvalid) {
		t.Errorf("severity 7: %v, want ErrInvalid", err)
	}
	if _, err := svc.SetSeverity(ctx, inc.ID, 1, incidents.Action{Actor: "sam"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Note(ctx, inc.ID, incidents.Action{Actor: "dana", Text: "  "}); !errors.Is(err, incidents.ErrInvalid) {
		t.Errorf("an empty note: %v, want ErrInvalid", err)
	}
	if err := svc.Note(ctx, inc.ID, incidents.Action{Actor: "dana", Text: "provider is degraded"}); err != nil {
		t.Fatal(err)
	}
	written := c.At(-30 * time.Minute)
	if err := svc.Pin(ctx, inc.ID, incidents.PinnedMessage{ID: "C1/1700.1", Author: "@lee", Text: "deploy 412 went out", At: written}, incidents.Action{Actor: "dana"}); err != nil {
		t.Fatal(err)
	}
	events, err := svc.Timeline(ctx, inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if last.Type != incidents.EventMessagePinned || !last.At.Equal(written) || last.Data["author"] != "@lee" {
		t.Errorf("pinned event %+v, want it at the message's own time", last)
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Errorf("event %d has seq %d", i, e.Seq)
		}
	}
	page, _ := svc.Timeline(ctx, inc.ID, 2, 2)
	if len(page) != 2 || page[0].Seq != 3 {
		t.Errorf("the page after seq 2: %+v", page)
	}
}

// Two Services on one store (two replicas), many writers at once, each
// marking its own step: every change is kept.
func TestConcurrentWritersLoseNoUpdate(t *testing.T) {
	st := openStore(t)
	c := newClock()
	a := incidents.NewService(st, incidents.Options{Now: c.Now})
	b := incidents.NewService(st, incidents.Options{Now: c.Now})
	d := incidents.Declaration{Title: "Storm"}
	for i := 1; i <= 40; i++ {
		d.Steps = append(d.Steps, incidents.StepProgress{Number: i, Title: fmt.Sprint(i)})
	}
	inc, _, err := a.Declare(ctx, d, incidents.Action{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 1; i <= 40; i++ {
		svc := a
		if i%2 == 0 {
			svc = b
		}
		wg.Add(2)
		for dup := 0; dup < 2; dup++ { // every click arrives twice
			go func() {
				defer wg.Done()
				if _, err := svc.Step(ctx, inc.ID, i, incidents.StepDone, incidents.Action{Key: fmt.Sprintf("click-%d", i), Actor: "x"}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	got, err := a.Get(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got.Steps {
		if s.State != incidents.StepDone {
			t.Errorf("step %d is %s: an update was lost", s.Number, s.State)
		}
	}
	events, _ := a.Timeline(ctx, inc.ID, 0, 0)
	if n := len(events) - 1; n != 40 {
		t.Errorf("%d step events, want 40 (each click once)", n)
	}
}

func TestARecurringAlertGroupOpensANewIncidentOnceTheOldIsResolved(t *testing.T) {
	svc, c := newService(t)
	first := declare(t, svc, 0)
	if _, err := svc.Transition(ctx, first.ID, incidents.StatusResolved, incidents.Action{Actor: "dana"}); err != nil {
		t.Fatal(err)
	}
	c.Advance(24 * time.Hour)
	group := map[string]string{incidents.RefAlertmanagerGroup: first.Refs[incidents.RefAlertmanagerGroup]}
	second, created, err := svc.Declare(ctx, incidents.Declaration{Title: "Payments 5xx", Refs: group}, incidents.Action{Key: "am:delivery-2"})
	if err != nil || !created || second.ID == first.ID {
		t.Fatalf("the group fired again: %v, created %v, err %v; want a new incident", second, created, err)
	}
	again, created, err := svc.Declare(ctx, incidents.Declaration{Title: "Payments 5xx", Refs: group}, incidents.Action{Key: "am:delivery-3"})
	if err != nil || created || again.ID != second.ID {
		t.Errorf("the next notification: %v, created %v, err %v; want the open incident", again, created, err)
	}
	old, _ := svc.Get(ctx, first.ID)
	if _, held := old.Refs[incidents.RefAlertmanagerGroup]; held {
		t.Errorf("the resolved incident still holds the group: %v", old.Refs)
	}
	redelivered, created, err := svc.Declare(ctx, incidents.Declaration{Title: "x"}, incidents.Action{Key: "am:delivery-1"})
	if err != nil || created || redelivered.ID != first.ID {
		t.Errorf("a late redelivery of the first notification: %v, created %v, err %v; want the first incident", redelivered, created, err)
	}
}

func TestPinningAgainAfterAnUnpinIsKept(t *testing.T) {
	svc, _ := newService(t)
	inc := declare(t, svc, 0)
	msg := incidents.PinnedMessage{ID: "C1/1", Author: "@lee", Text: "look here"}
	for _, f := range []func() error{
		func() error { return svc.Pin(ctx, inc.ID, msg, incidents.Action{Actor: "dana"}) },
		func() error { return svc.Unpin(ctx, inc.ID, msg.ID, incidents.Action{Actor: "dana"}) },
		func() error { return svc.Pin(ctx, inc.ID, msg, incidents.Action{Actor: "dana"}) },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	events, _ := svc.Timeline(ctx, inc.ID, 0, 0)
	if last := events[len(events)-1]; last.Type != incidents.EventMessagePinned {
		t.Errorf("last event %s, want the second pin", last.Type)
	}
}

func TestWithdrawnMitigationIsForgotten(t *testing.T) {
	svc, _ := newService(t)
	inc := declare(t, svc, 0)
	for _, to := range []incidents.Status{"mitigated", "acknowledged"} {
		if _, err := svc.Transition(ctx, inc.ID, to, incidents.Action{}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := svc.Get(ctx, inc.ID)
	if !got.MitigatedAt.IsZero() {
		t.Errorf("mitigated at %v after the mitigation was withdrawn", got.MitigatedAt)
	}
}

// manyIncidents declares 520 incidents: 250 created at one instant (a
// run longer than a page of Each), the others a second apart, every third
// one resolved, half of them of svc-1.
func manyIncidents(t *testing.T) (*incidents.Service, *clock) {
	t.Helper()
	svc, c := newService(t)
	var wg sync.WaitGroup
	for i := range 520 {
		at := c.At(time.Duration(i) * time.Second)
		if i < 250 {
			at = c.At(0)
		}
		wg.Go(func() {
			inc, _, err := svc.Declare(ctx, incidents.Declaration{Title: fmt.Sprintf("Incident %d", i), Service: fmt.Sprintf("svc-%d", i%2)},
				incidents.Action{Key: fmt.Sprintf("declare-%d", i), At: at})
			if err != nil {
				t.Error(err)
				return
			}
			if i%3 == 0 {
				if _, err := svc.Transition(ctx, inc.ID, incidents.StatusResolved, incidents.Action{}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	return svc, c
}

func TestEachSeesWhatListSelectsOncePageByPage(t *testing.T) {
	svc, c := manyIncidents(t)
	tests := []struct {
		name string
		f    incidents.Filter
	}{
		{"every incident", incidents.Filter{}},
		{"the open ones", incidents.Filter{Open: true}},
		{"one service's resolved ones", incidents.Filter{Service: "svc-1", Statuses: []incidents.Status{incidents.StatusResolved}}},
		{"the newest 300", incidents.Filter{Limit: 300}},
		{"the newest 210 open ones", incidents.Filter{Open: true, Limit: 210}},
		{"before a time", incidents.Filter{To: c.At(400 * time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := svc.List(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := svc.Each(ctx, tt.f, func(inc *incidents.Incident) error {
				got = append(got, inc.ID)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("Each saw %d incidents, List returns %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i].ID {
					t.Fatalf("incident %d: Each saw %s, List returns %s", i, got[i], want[i].ID)
				}
			}
		})
	}
}

func TestEachAfterGoesOnWhereAReaderStopped(t *testing.T) {
	svc, _ := manyIncidents(t)
	for _, f := range []incidents.Filter{{}, {Open: true}} {
		all, err := svc.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		// Stops in the run of 250 at one instant (the oldest 250), at its
		// edges, and among the others.
		for _, k := range []int{0, 1, 150, 199, 200, len(all) - 251, len(all) - 250, len(all) - 249, len(all) - 100, len(all) - 2, len(all) - 1} {
			t.Run(fmt.Sprintf("open=%v after=%d", f.Open, k), func(t *testing.T) {
				var got []string
				err := svc.EachAfter(ctx, f, incidents.PositionOf(all[k]), func(inc *incidents.Incident) error {
					got = append(got, inc.ID)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				want := all[k+1:]
				if len(got) != len(want) {
					t.Fatalf("EachAfter saw %d incidents, want the %d after the %dth", len(got), len(want), k)
				}
				for i := range want {
					if got[i] != want[i].ID {
						t.Fatalf("incident %d: EachAfter saw %s, want %s", i, got[i], want[i].ID)
					}
				}
			})
		}
	}
}

func TestEachStopsAtTheFirstError(t *testing.T) {
	svc, _ := newService(t)
	for i := range 3 {
		if _, _, err := svc.Declare(ctx, incidents.Declaration{Title: fmt.Sprint("Incident ", i)}, incidents.Action{}); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("enough")
	n := 0
	err := svc.Each(ctx, incidents.Filter{}, func(*incidents.Incident) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Each = %v after %d calls, want %v after 1", err, n, stop)
	}
}
