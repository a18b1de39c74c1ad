package incidents_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/internal/poll"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/redisstore"
	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
)

var remindT0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func TestDueReminders(t *testing.T) {
	inc := func(status incidents.Status, sev int, roles map[string]string) *incidents.Incident {
		i := &incidents.Incident{ID: "INC-1", Title: "Payments 5xx", Status: status, Severity: sev, Roles: roles, CreatedAt: remindT0}
		if status != incidents.StatusTriggered {
			i.AcknowledgedAt = remindT0.Add(time.Minute)
		}
		return i
	}
	ic := map[string]string{incidents.RoleCommander: "U1"}
	min := time.Minute
	last := remindT0.Add(10 * min)
	lastMs := fmt.Sprint(last.UnixMilli())
	t0Ms := fmt.Sprint(remindT0.UnixMilli())
	tests := []struct {
		name   string
		inc    *incidents.Incident
		last   time.Time
		at     time.Duration // after remindT0
		policy incidents.ReminderPolicy
		want   []string // keys
	}{
		{"a triggered incident younger than the ack delay is not nudged", inc(incidents.StatusTriggered, 3, nil), time.Time{}, 4*min + 59*time.Second, incidents.ReminderPolicy{}, nil},
		{"a triggered incident is nudged to acknowledge after 5 min by default", inc(incidents.StatusTriggered, 3, nil), time.Time{}, 5 * min, incidents.ReminderPolicy{}, []string{"remind:INC-1:no-ack"}},
		{"the ack nudge keeps its key later on", inc(incidents.StatusTriggered, 3, nil), remindT0.Add(20 * min), 25 * min, incidents.ReminderPolicy{}, []string{"remind:INC-1:no-ack"}},
		{"an acknowledged incident is not nudged to acknowledge", inc(incidents.StatusAcknowledged, 3, nil), remindT0.Add(20 * min), 25 * min, incidents.ReminderPolicy{}, nil},
		{"an incident acknowledged then unacknowledged is not nudged again", func() *incidents.Incident {
			i := inc(incidents.StatusTriggered, 3, nil)
			i.AcknowledgedAt = remindT0.Add(min)
			return i
		}(), remindT0.Add(20 * min), 25 * min, incidents.ReminderPolicy{}, nil},
		{"a SEV2 incident with no commander is nudged after 10 min by default", inc(incidents.StatusAcknowledged, 2, nil), remindT0.Add(9 * min), 10 * min, incidents.ReminderPolicy{}, []string{"remind:INC-1:no-commander"}},
		{"a SEV1 incident with no commander is not nudged before 10 min", inc(incidents.StatusAcknowledged, 1, nil), remindT0.Add(9 * min), 9 * min, incidents.ReminderPolicy{}, nil},
		{"a SEV1 incident with a commander is not nudged", inc(incidents.StatusAcknowledged, 1, ic), remindT0.Add(9 * min), 15 * min, incidents.ReminderPolicy{}, nil},
		{"a SEV3 incident needs no commander by default", inc(incidents.StatusAcknowledged, 3, nil), remindT0.Add(9 * min), 15 * min, incidents.ReminderPolicy{}, nil},
		{"a SEV3 incident needs a commander when the policy says so", inc(incidents.StatusAcknowledged, 3, nil), remindT0.Add(9 * min), 15 * min, incidents.ReminderPolicy{CommanderSeverity: 3}, []string{"remind:INC-1:no-commander"}},
		{"an incident of unknown severity needs no commander", inc(incidents.StatusAcknowledged, 0, nil), remindT0.Add(9 * min), 15 * min, incidents.ReminderPolicy{}, nil},
		{"an incident quiet for less than 30 min is not nudged for an update", inc(incidents.StatusAcknowledged, 3, nil), last, 39 * min, incidents.ReminderPolicy{}, nil},
		{"an incident quiet for 30 min is nudged for an update, period 1", inc(incidents.StatusAcknowledged, 3, nil), last, 40 * min, incidents.ReminderPolicy{}, []string{"remind:INC-1:no-update:" + lastMs + ":1"}},
		{"an incident quiet for 30 to 60 min keeps period 1's key", inc(incidents.StatusAcknowledged, 3, nil), last, 69 * min, incidents.ReminderPolicy{}, []string{"remind:INC-1:no-update:" + lastMs + ":1"}},
		{"an incident quiet for 60 min is nudged again, period 2", inc(incidents.StatusAcknowledged, 3, nil), last, 70 * min, incidents.ReminderPolicy{}, []string{"remind:INC-1:no-update:" + lastMs + ":2"}},
		{"no update at all counts from the creation", inc(incidents.StatusAcknowledged, 3, nil), time.Time{}, 30 * min, incidents.ReminderPolicy{}, []string{"remind:INC-1:no-update:" + t0Ms + ":1"}},
		{"a mitigated incident is not nudged for an update", inc(incidents.StatusMitigated, 1, ic), last, 300 * min, incidents.ReminderPolicy{}, nil},
		{"a resolved incident gets no reminder", inc(incidents.StatusResolved, 1, nil), time.Time{}, 300 * min, incidents.ReminderPolicy{}, nil},
		{"a triggered SEV1 long quiet gets all three", inc(incidents.StatusTriggered, 1, nil), time.Time{}, 30 * min, incidents.ReminderPolicy{},
			[]string{"remind:INC-1:no-ack", "remind:INC-1:no-commander", "remind:INC-1:no-update:" + t0Ms + ":1"}},
		{"negative durations turn each reminder off", inc(incidents.StatusTriggered, 1, nil), time.Time{}, 300 * min,
			incidents.ReminderPolicy{AckAfter: -1, UpdateAfter: -1, CommanderAfter: -1}, nil},
		{"custom delays are kept", inc(incidents.StatusTriggered, 1, nil), time.Time{}, 2 * min,
			incidents.ReminderPolicy{AckAfter: 2 * min, UpdateAfter: time.Minute, CommanderAfter: 3 * min},
			[]string{"remind:INC-1:no-ack", "remind:INC-1:no-update:" + t0Ms + ":2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := incidents.DueReminders(tt.inc, tt.last, remindT0.Add(tt.at), tt.policy)
			var keys []string
			for _, r := range got {
				keys = append(keys, r.Key)
				if !strings.HasPrefix(r.Key, "remind:INC-1:"+string(r.Kind)) {
					t.Errorf("reminder %s has key %q, want it to start with its kind", r.Kind, r.Key)
				}
				if !strings.Contains(r.Text, "INC-1") {
					t.Errorf("reminder %s says %q, want the incident's ID in it", r.Kind, r.Text)
				}
			}
			if !slices.Equal(keys, tt.want) {
				t.Errorf("got %q, want %q", keys, tt.want)
			}
		})
	}
}

func TestDueRemindersSayHowLong(t *testing.T) {
	inc := &incidents.Incident{ID: "INC-1", Title: "t", Status: incidents.StatusTriggered, CreatedAt: remindT0}
	for _, tt := range []struct {
		after time.Duration
		want  string
	}{
		{5 * time.Minute, "open for 5 min"},
		{59*time.Minute + 59*time.Second, "open for 59 min"},
		{60 * time.Minute, "open for 1 h."},
		{125 * time.Minute, "open for 2 h 5 min"},
	} {
		got := incidents.DueReminders(inc, remindT0.Add(tt.after), remindT0.Add(tt.after), incidents.ReminderPolicy{})
		if len(got) != 1 || !strings.Contains(got[0].Text, tt.want) {
			t.Errorf("after %v: got %+v, want one reminder saying %q", tt.after, got, tt.want)
		}
	}
}

// posts records the reminders posted, as a chat would show them.
type posts struct {
	mu   sync.Mutex
	keys []string
	fail int // the next fail posts fail
}

func (p *posts) post(_ context.Context, inc *incidents.Incident, r incidents.Reminder) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return errors.New("chat unavailable")
	}
	p.keys = append(p.keys, inc.ID+" "+string(r.Kind))
	return nil
}

func (p *posts) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.keys
	p.keys = nil
	return out
}

func tick(t *testing.T, r *incidents.Reminders) {
	t.Helper()
	if err := r.Tick(ctx); err != nil {
		t.Fatalf("Tick = %v", err)
	}
}

func checkPosts(t *testing.T, p *posts, when string, want ...string) {
	t.Helper()
	got := p.take()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: posted %q, want %q", when, got, want)
	}
}

func TestRemindersNudgeEachIncidentOncePerPeriod(t *testing.T) {
	svc, clock := newService(t)
	p := &posts{}
	r := incidents.NewReminders(svc, incidents.ReminderPolicy{}, p.post, incidents.RemindersOptions{Now: clock.Now})
	inc := declare(t, svc, 2) // INC-1, SEV2, triggered
	quiet, _, err := svc.Declare(ctx, incidents.Declaration{Title: "Disk filling", Severity: 4}, incidents.Action{Key: "d2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, quiet.ID, incidents.StatusAcknowledged, incidents.Action{Key: "ack2", Actor: "U2"}); err != nil {
		t.Fatal(err)
	}

	tick(t, r)
	checkPosts(t, p, "at once")
	clock.Advance(5 * time.Minute)
	tick(t, r)
	checkPosts(t, p, "after 5 min", "INC-1 no-ack")
	tick(t, r)
	checkPosts(t, p, "on the next tick")
	clock.Advance(5 * time.Minute)
	tick(t, r)
	checkPosts(t, p, "after 10 min", "INC-1 no-commander")
	clock.Advance(20 * time.Minute)
	tick(t, r)
	checkPosts(t, p, "after 30 min", "INC-1 no-update", "INC-2 no-update")
	clock.Advance(29 * time.Minute)
	tick(t, r)
	checkPosts(t, p, "after 59 min")
	clock.Advance(time.Minute)
	tick(t, r)
	checkPosts(t, p, "after 60 min", "INC-1 no-update", "INC-2 no-update")

	// A note is an update: the count starts again from it.
	if err := svc.Note(ctx, inc.ID, incidents.Action{Key: "n1", Actor: "U1", Text: "rolling back"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(29 * time.Minute)
	tick(t, r)
	checkPosts(t, p, "29 min after the note") // INC-2: quiet 89 min, period 2 still
	clock.Advance(time.Minute)
	tick(t, r)
	checkPosts(t, p, "30 min after the note", "INC-1 no-update", "INC-2 no-update")

	// Acknowledged, with a commander, resolved: nothing more.
	if _, err := svc.Transition(ctx, inc.ID, incidents.StatusResolved, incidents.Action{Key: "r1", Actor: "U1"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Hour)
	tick(t, r)
	checkPosts(t, p, "after INC-1 resolved", "INC-2 no-update")

	// Each reminder is on the timeline, from Breadcrumb, once.
	events, err := svc.Timeline(ctx, inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range events {
		if e.Type != incidents.EventReminder {
			continue
		}
		kinds = append(kinds, e.Data["kind"])
		if e.Source != incidents.ReminderSource || e.Text == "" || !strings.HasPrefix(e.Key, "remind:INC-1:") {
			t.Errorf("reminder event %+v, want source %q, a text and its reminder's key", e, incidents.ReminderSource)
		}
	}
	want := []string{"no-ack", "no-commander", "no-update", "no-update", "no-update"}
	if !slices.Equal(kinds, want) {
		t.Errorf("reminders on INC-1's timeline: %q, want %q", kinds, want)
	}
}

func TestTwoRemindersRunningAtOnceNudgeOnce(t *testing.T) {
	svc, clock := newService(t)
	p := &posts{}
	a := incidents.NewReminders(svc, incidents.ReminderPolicy{}, p.post, incidents.RemindersOptions{Now: clock.Now})
	b := incidents.NewReminders(svc, incidents.ReminderPolicy{}, p.post, incidents.RemindersOptions{Now: clock.Now})
	for i := range 10 {
		if _, _, err := svc.Declare(ctx, incidents.Declaration{Title: fmt.Sprint("incident ", i), Severity: 1 + i%2}, incidents.Action{}); err != nil {
			t.Fatal(err)
		}
	}
	open, _ := svc.List(ctx, incidents.Filter{Open: true})
	clock.Advance(31 * time.Minute)
	var wg sync.WaitGroup
	for _, r := range []*incidents.Reminders{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Tick(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := p.take()
	// Each open incident: no-ack, no-commander (SEV1, SEV2), no-update.
	if want := 3 * len(open); len(got) != want {
		t.Errorf("posted %d reminders for %d incidents, want %d", len(got), len(open), want)
	}
	slices.Sort(got)
	if d := slices.Compact(slices.Clone(got)); len(d) != len(got) {
		t.Errorf("posted %q: some twice", got)
	}
}

func TestAReminderWhosePostFailedIsPostedOnceItsClaimRunsOut(t *testing.T) {
	svc, clock := newService(t)
	p := &posts{fail: 1}
	r := incidents.NewReminders(svc, incidents.ReminderPolicy{UpdateAfter: -1, CommanderAfter: -1}, p.post,
		incidents.RemindersOptions{Now: clock.Now, ClaimTTL: 50 * time.Millisecond})
	inc := declare(t, svc, 0)
	clock.Advance(6 * time.Minute)
	if err := r.Tick(ctx); err == nil || !strings.Contains(err.Error(), "chat unavailable") {
		t.Fatalf("Tick with a failing post = %v, want its error", err)
	}
	if has := reminderEvents(t, svc, inc.ID); has != 0 {
		t.Errorf("after a failed post, %d reminders on the timeline, want 0", has)
	}
	var got []string
	poll.Until(t, "the reminder is posted again", func() bool {
		tick(t, r)
		got = append(got, p.take()...)
		return len(got) > 0
	})
	if want := []string{"INC-1 no-ack"}; !slices.Equal(got, want) {
		t.Errorf("posted %q, want %q", got, want)
	}
	if has := reminderEvents(t, svc, inc.ID); has != 1 {
		t.Errorf("%d reminders on the timeline, want 1", has)
	}
}

func reminderEvents(t *testing.T, svc *incidents.Service, id string) int {
	t.Helper()
	events, err := svc.Timeline(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == incidents.EventReminder {
			n++
		}
	}
	return n
}

func TestRemindersRunTicksUntilItsContextEnds(t *testing.T) {
	svc, clock := newService(t)
	p := &posts{}
	r := incidents.NewReminders(svc, incidents.ReminderPolicy{}, p.post, incidents.RemindersOptions{Now: clock.Now, Interval: 5 * time.Millisecond})
	declare(t, svc, 0)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	clock.Advance(5 * time.Minute)
	var got []string
	poll.Until(t, "a tick posts the reminder", func() bool {
		got = append(got, p.take()...)
		return len(got) > 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	got = append(got, p.take()...)
	if want := []string{"INC-1 no-ack"}; !slices.Equal(got, want) {
		t.Errorf("posted %q, want %q", got, want)
	}
}

// TestTwoReplicasOnOneRedisNudgeOnce: two replicas, each with its own
// client, Service and Reminders, both believing they lead (a handover),
// tick at once over the same incidents: each reminder is posted once.
func TestTwoReplicasOnOneRedisNudgeOnce(t *testing.T) {
	opts, prefix := redistest.Server(t)
	clock := newClock()
	p := &posts{}
	var replicas []*incidents.Reminders
	var svcs []*incidents.Service
	for range 2 {
		c := redis.NewClient(opts)
		t.Cleanup(func() { _ = c.Close() })
		svc := incidents.NewService(redisstore.New(c, redisstore.Options{Prefix: prefix}), incidents.Options{Now: clock.Now})
		svcs = append(svcs, svc)
		replicas = append(replicas, incidents.NewReminders(svc, incidents.ReminderPolicy{}, p.post, incidents.RemindersOptions{Now: clock.Now}))
	}
	for i := range 10 {
		if _, _, err := svcs[i%2].Declare(ctx, incidents.Declaration{Title: fmt.Sprint("incident ", i), Severity: 1 + i%2}, incidents.Action{}); err != nil {
			t.Fatal(err)
		}
	}
	for round := 1; round <= 3; round++ {
		clock.Advance(31 * time.Minute)
		var wg sync.WaitGroup
		for _, r := range []*incidents.Reminders{replicas[0], replicas[1], replicas[0], replicas[1]} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.Tick(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		got := p.take()
		want := 10 // a no-update per incident
		if round == 1 {
			want = 30 // and the first no-ack and no-commander
		}
		if len(got) != want {
			t.Errorf("round %d: posted %d reminders, want %d", round, len(got), want)
		}
		slices.Sort(got)
		if d := slices.Compact(slices.Clone(got)); len(d) != len(got) {
			t.Errorf("round %d: posted %q: some twice", round, got)
		}
	}
}

// BenchmarkRemindersTick times a tick over 200 open incidents in the
// embedded store, each with 20 notes, once the first tick has read their
// timelines and sent their reminders: the leader's cost every minute.
func BenchmarkRemindersTick(b *testing.B) {
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	clock := newClock()
	svc := incidents.NewService(st, incidents.Options{Now: clock.Now})
	for i := range 200 {
		inc, _, err := svc.Declare(ctx, incidents.Declaration{Title: fmt.Sprint("incident ", i), Severity: 1 + i%4}, incidents.Action{})
		if err != nil {
			b.Fatal(err)
		}
		for n := range 20 {
			if err := svc.Note(ctx, inc.ID, incidents.Action{Actor: "U1", Text: fmt.Sprint("note ", n)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	p := &posts{}
	r := incidents.NewReminders(svc, incidents.ReminderPolicy{}, p.post, incidents.RemindersOptions{Now: clock.Now})
	clock.Advance(31 * time.Minute)
	if err := r.Tick(ctx); err != nil {
		b.Fatal(err)
	}
	if got := len(p.take()); got < 200 {
		b.Fatalf("the first tick posted %d reminders, want at least 200", got)
	}
	for b.Loop() {
		if err := r.Tick(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
