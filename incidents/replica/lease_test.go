package replica_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/internal/poll"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/redisstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
)

// electorTTL is long enough that a renewal every ttl/3 never misses on a
// busy machine, so that the elected replica stays elected while a test
// looks.
const electorTTL = 3 * time.Second

// leasers gives two replicas' leasers over one store: two Redis clients
// on one server and prefix, or the one bbolt file a process holds.
var leasers = []struct {
	name string
	open func(t *testing.T) (a, b replica.Leaser)
}{
	{"over redis", func(t *testing.T) (replica.Leaser, replica.Leaser) {
		opts, prefix := redistest.Server(t)
		c1, c2 := redis.NewClient(opts), redis.NewClient(opts)
		t.Cleanup(func() { _ = c1.Close(); _ = c2.Close() })
		return redisstore.New(c1, redisstore.Options{Prefix: prefix}), redisstore.New(c2, redisstore.Options{Prefix: prefix})
	}},
	{"over bbolt", func(t *testing.T) (replica.Leaser, replica.Leaser) {
		st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st, st
	}},
}

// runner is an elector running, with what its callbacks saw.
type runner struct {
	e        *replica.Elector
	elected  atomic.Int64
	demoted  atomic.Int64
	working  atomic.Bool // OnElected's work is running
	stop     context.CancelFunc
	finished chan struct{}
}

func startReplica(t *testing.T, l replica.Leaser, holder string, ttl time.Duration) *runner {
	t.Helper()
	r := &runner{finished: make(chan struct{})}
	r.e = replica.NewElector(l, replica.ElectorOptions{Holder: holder, TTL: ttl,
		OnElected: func(ctx context.Context) {
			r.elected.Add(1)
			r.working.Store(true)
			<-ctx.Done()
			r.working.Store(false)
		},
		OnDemoted: func() { r.demoted.Add(1) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = func() {
		cancel()
		<-r.finished
	}
	go func() {
		defer close(r.finished)
		if err := r.e.Run(ctx); err != nil {
			t.Errorf("Run(%s) = %v, want nil", holder, err)
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func TestTwoElectorsLeadOneAtATimeAndHandOverOnStop(t *testing.T) {
	for _, lt := range leasers {
		t.Run(lt.name, func(t *testing.T) {
			la, lb := lt.open(t)
			a := startReplica(t, la, "replica-a", electorTTL)
			b := startReplica(t, lb, "replica-b", electorTTL)
			poll.Until(t, "one replica leads", func() bool { return a.e.Leading() || b.e.Leading() })
			if a.e.Leading() && b.e.Leading() {
				t.Fatalf("both replicas lead")
			}
			leader, follower := a, b
			if b.e.Leading() {
				leader, follower = b, a
			}
			poll.Until(t, "the leader's work starts", leader.working.Load)
			if got := follower.elected.Load(); got != 0 {
				t.Errorf("the follower was elected %d times, want 0", got)
			}

			leader.stop()
			if leader.e.Leading() || leader.working.Load() {
				t.Errorf("after its stop, the leader still leads (%v) or works (%v)", leader.e.Leading(), leader.working.Load())
			}
			if got := leader.demoted.Load(); got != 1 {
				t.Errorf("the stopped leader was demoted %d times, want 1", got)
			}
			// It resigned: the follower takes over at its next try,
			// long before the ttl would have run out.
			poll.Until(t, "the follower leads", follower.e.Leading)
			poll.Until(t, "the follower's work starts", follower.working.Load)
			if got := follower.elected.Load(); got != 1 {
				t.Errorf("the follower was elected %d times, want 1", got)
			}

			follower.stop()
			if held, err := la.Lead(t.Context(), replica.LeaderLease, "replica-c", time.Minute); err != nil || !held {
				t.Errorf("after both stopped, a third holder's Lead = %v, %v, want true, nil", held, err)
			}
		})
	}
}

func TestAnElectorThatLostItsLeaseStopsItsWork(t *testing.T) {
	for _, lt := range leasers {
		t.Run(lt.name, func(t *testing.T) {
			la, lb := lt.open(t)
			a := startReplica(t, la, "replica-a", electorTTL)
			poll.Until(t, "a leads", a.e.Leading)
			poll.Until(t, "a's work starts", a.working.Load)

			// Another holder takes the lease (as after a pause longer
			// than the ttl).
			if err := lb.Resign(t.Context(), replica.LeaderLease, "replica-a"); err != nil {
				t.Fatal(err)
			}
			if held, err := lb.Lead(t.Context(), replica.LeaderLease, "intruder", time.Minute); err != nil || !held {
				t.Fatalf("Lead(intruder) = %v, %v, want true, nil", held, err)
			}
			poll.Until(t, "a learns it no longer leads", func() bool { return !a.e.Leading() })
			poll.Until(t, "a's work stops", func() bool { return !a.working.Load() })
			poll.Until(t, "a is told it is demoted", func() bool { return a.demoted.Load() == 1 })
			if got := a.elected.Load(); got != 1 {
				t.Errorf("a was elected %d times, want 1", got)
			}
		})
	}
}

// failingLeaser is a real leaser whose Lead fails while failing is set.
type failingLeaser struct {
	replica.Leaser
	failing atomic.Bool
}

func (f *failingLeaser) Lead(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if f.failing.Load() {
		return false, errors.New("connection refused")
	}
	return f.Leaser.Lead(ctx, name, holder, ttl)
}

func TestAnElectorThatCannotRenewStopsLeadingWhenItsLeaseRunsOut(t *testing.T) {
	la, _ := leasers[1].open(t)
	f := &failingLeaser{Leaser: la}
	a := startReplica(t, f, "replica-a", 300*time.Millisecond)
	poll.Until(t, "a leads", a.e.Leading)
	f.failing.Store(true)
	poll.Until(t, "a stops leading", func() bool { return !a.e.Leading() })
	poll.Until(t, "a's work stops", func() bool { return !a.working.Load() })
	f.failing.Store(false)
	poll.Until(t, "a leads again once the store answers", a.e.Leading)
	if got := a.elected.Load(); got != 2 {
		t.Errorf("a was elected %d times, want 2", got)
	}
}

// The elector's clock, not the wall's, says when a lease held runs out:
// while it stands still, a leader that cannot renew keeps leading however
// many tries fail; once it passes the lease's end, the leader steps down.
func TestAnElectorReadsWhenItsLeaseRunsOutOnItsOwnClock(t *testing.T) {
	la, _ := leasers[1].open(t)
	f := &failingLeaser{Leaser: la}
	var offset atomic.Int64
	clock := func() time.Time { return time.Unix(1_800_000_000, 0).Add(time.Duration(offset.Load())) }
	const ttl = 30 * time.Millisecond
	e := replica.NewElector(f, replica.ElectorOptions{Holder: "replica-a", TTL: ttl, Now: clock})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	poll.Until(t, "a leads", e.Leading)
	f.failing.Store(true)
	time.Sleep(20 * ttl) // twenty failed tries, on the wall's clock
	if !e.Leading() {
		t.Fatal("the leader stepped down while its own clock said the lease still held")
	}
	offset.Store(int64(ttl))
	poll.Until(t, "a stops leading once its clock passes the lease's end", func() bool { return !e.Leading() })
}

func TestElectorHolderIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := replica.NewHolderID()
		if seen[id] {
			t.Fatalf("NewHolderID gave %q twice", id)
		}
		seen[id] = true
	}
}
