package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/redisstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/storetest"
	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// prefixes hands out prefixes under base, one per store, so that every
// subtest starts empty and the keys of all are deleted with base's.
type prefixes struct {
	base string
	n    atomic.Int64
}

func (p *prefixes) next() string { return fmt.Sprintf("%s%d:", p.base, p.n.Add(1)) }

func TestConformance(t *testing.T) {
	c, prefix := redistest.Client(t)
	ps := &prefixes{base: prefix}
	storetest.RunConformanceTests(t, func(t *testing.T) incidents.Store {
		s := redisstore.New(c, redisstore.Options{Prefix: ps.next()})
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestConformanceAcrossTwoReplicas runs the suite, its concurrent
// read-modify-write updates, appends and claims included, against two
// Stores on two separate clients (two connection pools, as two replicas of
// Breadcrumb have) that share one prefix: consecutive calls go to
// alternate replicas, so a Get and the Update that follows it often run
// on different ones.
func TestConformanceAcrossTwoReplicas(t *testing.T) {
	opts, prefix := redistest.Server(t)
	c1, c2 := redis.NewClient(opts), redis.NewClient(opts)
	t.Cleanup(func() { c1.Close(); c2.Close() })
	ps := &prefixes{base: prefix}
	storetest.RunConformanceTests(t, func(t *testing.T) incidents.Store {
		p := ps.next()
		return &replicas{stores: []incidents.Store{
			redisstore.New(c1, redisstore.Options{Prefix: p}),
			redisstore.New(c2, redisstore.Options{Prefix: p}),
		}}
	})
}

// replicas is an incidents.Store that sends each call to the next of its
// stores in turn.
type replicas struct {
	stores []incidents.Store
	n      atomic.Int64
}

func (r *replicas) next() incidents.Store {
	return r.stores[int(r.n.Add(1))%len(r.stores)]
}

func (r *replicas) Create(ctx context.Context, inc *incidents.Incident, evs []incidents.Event) error {
	return r.next().Create(ctx, inc, evs)
}

func (r *replicas) Get(ctx context.Context, id string) (*incidents.Incident, error) {
	return r.next().Get(ctx, id)
}

func (r *replicas) Update(ctx context.Context, inc *incidents.Incident, evs []incidents.Event) ([]incidents.Event, error) {
	return r.next().Update(ctx, inc, evs)
}

func (r *replicas) Append(ctx context.Context, id string, evs []incidents.Event) ([]incidents.Event, error) {
	return r.next().Append(ctx, id, evs)
}

func (r *replicas) HasEvent(ctx context.Context, id, key string) (bool, error) {
	return r.next().HasEvent(ctx, id, key)
}

func (r *replicas) Events(ctx context.Context, id string, after int64, limit int) ([]incidents.Event, error) {
	return r.next().Events(ctx, id, after, limit)
}

func (r *replicas) List(ctx context.Context, f incidents.Filter) ([]*incidents.Incident, error) {
	return r.next().List(ctx, f)
}

func (r *replicas) FindByRef(ctx context.Context, kind, value string) (*incidents.Incident, error) {
	return r.next().FindByRef(ctx, kind, value)
}

func (r *replicas) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return r.next().Claim(ctx, key, ttl)
}

func (r *replicas) Close() error {
	var errs []error
	for _, s := range r.stores {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589_793_000, time.UTC)

func newIncident(id string, created time.Time) *incidents.Incident {
	return &incidents.Incident{
		ID: id, Title: "Checkout is slow", Status: incidents.StatusTriggered, Source: "cli",
		CreatedAt: created, UpdatedAt: created,
	}
}

func note(key string) incidents.Event {
	return incidents.Event{Key: key, Type: incidents.EventNote, At: t0, RecordedAt: t0, Actor: "U001", Text: "note " + key}
}

func eventKeys(evs []incidents.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Key
	}
	return out
}

func incidentIDs(incs []*incidents.Incident) []string {
	out := make([]string, len(incs))
	for i, inc := range incs {
		out[i] = inc.ID
	}
	return out
}

func TestStoresWithDifferentPrefixesDoNotSeeEachOther(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := t.Context()
	a := redisstore.New(c, redisstore.Options{Prefix: prefix + "a:"})
	b := redisstore.New(c, redisstore.Options{Prefix: prefix + "b:"})

	// The same ID, reference, event key and claim in both.
	for _, s := range []*redisstore.Store{a, b} {
		inc := newIncident("INC-1", t0)
		inc.Refs = map[string]string{incidents.RefPagerDutyIncident: "P1"}
		if s == b {
			inc.Title = "B's incident"
		}
		if err := s.Create(ctx, inc, []incidents.Event{note("n1")}); err != nil {
			t.Fatalf("Create(INC-1) = %v, want nil in each store", err)
		}
		if ok, err := s.Claim(ctx, "delivery-1", time.Minute); err != nil || !ok {
			t.Errorf("Claim(delivery-1) = %t, %v, want true, nil in each store", ok, err)
		}
	}
	if _, err := a.Append(ctx, "INC-1", []incidents.Event{note("only-a")}); err != nil {
		t.Fatal(err)
	}

	gotA, err := a.Get(ctx, "INC-1")
	if err != nil || gotA.Title != "Checkout is slow" {
		t.Errorf("a.Get(INC-1) = %+v, %v, want a's own incident", gotA, err)
	}
	gotB, err := b.FindByRef(ctx, incidents.RefPagerDutyIncident, "P1")
	if err != nil || gotB.Title != "B's incident" {
		t.Errorf("b.FindByRef(P1) = %+v, %v, want b's own incident", gotB, err)
	}
	if ok, err := b.HasEvent(ctx, "INC-1", "only-a"); err != nil || ok {
		t.Errorf("b.HasEvent(INC-1, only-a) = %t, %v, want false, nil", ok, err)
	}
	evs, err := b.Events(ctx, "INC-1", 0, 0)
	if err != nil || !slices.Equal(eventKeys(evs), []string{"n1"}) {
		t.Errorf("b.Events(INC-1) = %q, %v, want [n1]", eventKeys(evs), err)
	}
	for _, s := range []*redisstore.Store{a, b} {
		list, err := s.List(ctx, incidents.Filter{})
		if err != nil || len(list) != 1 {
			t.Errorf("List() = %q, %v, want the store's one incident", incidentIDs(list), err)
		}
	}

	// Every key either store wrote is under its prefix.
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix+"a:") && !strings.HasPrefix(k, prefix+"b:") {
			t.Errorf("key %q is under neither store's prefix", k)
		}
	}
}

func TestUpdateMovesReferences(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := t.Context()
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})

	a := newIncident("INC-A", t0)
	a.Refs = map[string]string{incidents.RefPagerDutyIncident: "P1"}
	b := newIncident("INC-B", t0.Add(time.Minute))
	b.Refs = map[string]string{incidents.RefPagerDutyIncident: "P2"}
	for _, inc := range []*incidents.Incident{a, b} {
		if err := s.Create(ctx, inc, nil); err != nil {
			t.Fatal(err)
		}
	}

	// A reference held by another incident is a conflict, and changes nothing.
	a.Refs[incidents.RefAlertmanagerGroup] = "G1"
	a.Refs[incidents.RefPagerDutyIncident] = "P2"
	_, err := s.Update(ctx, a, []incidents.Event{note("take-p2")})
	if !errors.Is(err, incidents.ErrConflict) {
		t.Errorf("Update(INC-A) taking INC-B's reference = %v, want ErrConflict", err)
	}
	if ok, _ := s.HasEvent(ctx, "INC-A", "take-p2"); ok {
		t.Error("the refused Update stored its event")
	}
	if _, err := s.FindByRef(ctx, incidents.RefAlertmanagerGroup, "G1"); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("FindByRef(G1) after the refused Update = %v, want ErrNotFound", err)
	}

	// A new reference is found, a dropped one is freed.
	a.Refs = map[string]string{incidents.RefAlertmanagerGroup: "G1"}
	if _, err := s.Update(ctx, a, nil); err != nil {
		t.Fatalf("Update(INC-A) = %v, want nil", err)
	}
	tests := []struct {
		kind, value string
		want        string // "" for ErrNotFound
	}{
		{incidents.RefAlertmanagerGroup, "G1", "INC-A"},
		{incidents.RefPagerDutyIncident, "P1", ""},
		{incidents.RefPagerDutyIncident, "P2", "INC-B"},
	}
	for _, tt := range tests {
		got, err := s.FindByRef(ctx, tt.kind, tt.value)
		switch {
		case tt.want == "" && !errors.Is(err, incidents.ErrNotFound):
			t.Errorf("FindByRef(%s) = %v, %v, want ErrNotFound", tt.value, got, err)
		case tt.want != "" && (err != nil || got.ID != tt.want):
			t.Errorf("FindByRef(%s) = %v, %v, want %s", tt.value, got, err, tt.want)
		}
	}
	b.Refs = map[string]string{incidents.RefPagerDutyIncident: "P2", "legacy": "P1"}
	if _, err := s.Update(ctx, b, nil); err != nil {
		t.Errorf("Update(INC-B) taking the freed P1 under another kind = %v, want nil", err)
	}
}

func TestReferenceKindsWithColonsAreKeptApart(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := t.Context()
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	a := newIncident("INC-A", t0)
	a.Refs = map[string]string{"a:b": "c"}
	b := newIncident("INC-B", t0)
	b.Refs = map[string]string{"a": "b:c"}
	for _, inc := range []*incidents.Incident{a, b} {
		if err := s.Create(ctx, inc, nil); err != nil {
			t.Errorf("Create(%s) = %v, want nil: %q are different references", inc.ID, err, inc.Refs)
		}
	}
	if got, err := s.FindByRef(ctx, "a", "b:c"); err != nil || got.ID != "INC-B" {
		t.Errorf("FindByRef(a, b:c) = %v, %v, want INC-B", got, err)
	}
}

func TestListOrdersIncidentsCreatedWithinOneMillisecond(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := t.Context()
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	ms := t0.Truncate(time.Millisecond)
	// Created out of order, all within one millisecond of the index's score.
	for _, us := range []int{300, 100, 900, 500} {
		id := fmt.Sprintf("INC-%d", us)
		if err := s.Create(ctx, newIncident(id, ms.Add(time.Duration(us)*time.Microsecond)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, newIncident("INC-OLD", ms.Add(-time.Millisecond)), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    incidents.Filter
		want []string
	}{
		{incidents.Filter{Limit: 2}, []string{"INC-900", "INC-500"}},
		{incidents.Filter{}, []string{"INC-900", "INC-500", "INC-300", "INC-100", "INC-OLD"}},
		{incidents.Filter{From: ms.Add(200 * time.Microsecond), To: ms.Add(900 * time.Microsecond)}, []string{"INC-500", "INC-300"}},
	}
	for _, tt := range tests {
		got, err := s.List(ctx, tt.f)
		if err != nil || !slices.Equal(incidentIDs(got), tt.want) {
			t.Errorf("List(%+v) = %q, %v, want %q", tt.f, incidentIDs(got), err, tt.want)
		}
	}
}

func TestListPagesThroughManyIncidents(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := t.Context()
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	const n = 450 // more than two pages
	var want []string
	for i := range n {
		inc := newIncident(fmt.Sprintf("INC-%03d", i), t0.Add(time.Duration(i)*time.Second))
		if i%3 == 0 {
			inc.Status = incidents.StatusResolved
		} else {
			want = append(want, inc.ID)
		}
		if err := s.Create(ctx, inc, nil); err != nil {
			t.Fatal(err)
		}
	}
	slices.Reverse(want)
	got, err := s.List(ctx, incidents.Filter{Open: true})
	if err != nil || !slices.Equal(incidentIDs(got), want) {
		t.Errorf("List(open) = %d incidents, %v, want %d newest first", len(got), err, len(want))
	}
	got, err = s.List(ctx, incidents.Filter{Open: true, Limit: 250})
	if err != nil || !slices.Equal(incidentIDs(got), want[:250]) {
		t.Errorf("List(open, limit 250) = %d incidents, %v, want the newest 250", len(got), err)
	}
}

// TestAcknowledgedAppendsSurviveRedisKill appends events one at a time to
// a redis-server that fsyncs its append-only file on every write, kills it
// with SIGKILL after 300 acknowledgements, restarts it on the same
// directory, and checks that every acknowledged event is in the timeline,
// each once, numbered without gaps. An Append that failed is retried with
// the same key until it succeeds, as a webhook's retry would: if the
// failed one had been stored, the retry stores nothing.
func TestAcknowledgedAppendsSurviveRedisKill(t *testing.T) {
	addr, stop, restart := redistest.StartServer(t)
	opts := &redis.Options{
		Addr: addr,
		// No retries by go-redis: an Append in flight when the server dies
		// fails, and the test retries it with the same key.
		MaxRetries:   -1,
		DialTimeout:  250 * time.Millisecond,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	s := redisstore.New(c, redisstore.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := s.Create(t.Context(), newIncident("INC-1", t0), nil); err != nil {
		t.Fatal(err)
	}

	const killAfter, total = 300, 1000
	var acked, ackedAtKill atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for acked.Load() < killAfter {
			if ctx.Err() != nil {
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
		stop()
		ackedAtKill.Store(acked.Load())
		time.Sleep(300 * time.Millisecond) // Appends fail meanwhile
		restart()
	})

	var ackedKeys []string
	var lastErr error
	failures, inARow := 0, 0
	for len(ackedKeys) < total && ctx.Err() == nil && inARow < 500 {
		key := fmt.Sprintf("ev-%04d", len(ackedKeys))
		_, err := s.Append(ctx, "INC-1", []incidents.Event{note(key)})
		if errors.Is(err, incidents.ErrNotFound) {
			lastErr = fmt.Errorf("the incident itself is lost: %w", err)
			break
		}
		if err != nil {
			lastErr = err
			failures++
			inARow++
			time.Sleep(10 * time.Millisecond)
			continue
		}
		inARow = 0
		ackedKeys = append(ackedKeys, key)
		acked.Store(int64(len(ackedKeys)))
	}
	cancel() // stops the killer if the loop stopped early
	wg.Wait()
	if len(ackedKeys) < total {
		t.Fatalf("only %d of %d Appends were acknowledged; the last error: %v", len(ackedKeys), total, lastErr)
	}
	if n := ackedAtKill.Load(); n < killAfter || n >= total || failures == 0 {
		t.Fatalf("the server was killed after %d of %d acknowledgements, and %d Appends failed: want a kill mid-stream", n, total, failures)
	}
	t.Logf("killed after %d acknowledgements; %d Appends acknowledged in all, %d failed while the server was down",
		ackedAtKill.Load(), len(ackedKeys), failures)

	// Read back through a new client, as another replica would.
	c2 := redis.NewClient(opts)
	defer c2.Close()
	evs, err := redisstore.New(c2, redisstore.Options{}).Events(t.Context(), "INC-1", 0, 0)
	if err != nil {
		t.Fatalf("Events after the restart = %v", err)
	}
	if got := eventKeys(evs); !slices.Equal(got, ackedKeys) {
		t.Errorf("after the kill, the timeline has %d events, want the %d acknowledged ones in order", len(got), len(ackedKeys))
		missing := 0
		for _, k := range ackedKeys {
			if !slices.Contains(got, k) && missing < 10 {
				t.Errorf("acknowledged event %s is lost", k)
				missing++
			}
		}
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d (%s) has Seq %d, want %d: the timeline has a gap", i, e.Key, e.Seq, i+1)
		}
	}

	// The server is the test's own, so the store ran with the default
	// prefix: every key is under it.
	all, err := c2.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range all {
		if !strings.HasPrefix(k, "breadcrumb:") {
			t.Errorf("key %q is not under the default prefix %q", k, "breadcrumb:")
		}
	}
}

// BenchmarkAppend times the store's Append (storetest.BenchmarkAppend)
// and, as its baseline, a plain XADD of a similar event to a stream on the
// same server, each reporting p50-µs and p99-µs. What the store adds is the
// script: the existence check, the dedupe by key, the HSET of the key and
// the record of the result for replays.
func BenchmarkAppend(b *testing.B) {
	opts, prefix := redistest.Server(b)
	c := redis.NewClient(opts)
	b.Cleanup(func() { c.Close() })
	var n atomic.Int64

	b.Run("store", func(b *testing.B) {
		storetest.BenchmarkAppend(b, func(b *testing.B) incidents.Store {
			return redisstore.New(c, redisstore.Options{Prefix: fmt.Sprintf("%sstore%d:", prefix, n.Add(1))})
		})
	})

	b.Run("raw-XADD", func(b *testing.B) {
		ctx := b.Context()
		stream := fmt.Sprintf("%sraw%d", prefix, n.Add(1))
		ev := incidents.Event{
			IncidentID: "INC-BENCH",
			Type:       incidents.EventNote,
			Actor:      "U0BENCH",
			Source:     "slack",
			Text:       strings.Repeat("The card processor answers in 2.4 s; failing over. ", 3),
			Data:       map[string]string{"url": "https://example.slack.com/archives/C0/p1741940813589793"},
		}
		latencies := make([]time.Duration, 0, 4096)
		i := 0
		for b.Loop() {
			i++
			ev.Key = "bench-" + strconv.Itoa(i)
			ev.At = time.Now()
			ev.RecordedAt = ev.At
			start := time.Now()
			j, err := json.Marshal(ev) // the store encodes each event too
			if err == nil {
				err = c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"e", string(j)}}).Err()
			}
			latencies = append(latencies, time.Since(start))
			if err != nil {
				b.Fatalf("XADD = %v", err)
			}
		}
		slices.Sort(latencies)
		b.ReportMetric(micros(percentile(latencies, 0.50)), "p50-µs")
		b.ReportMetric(micros(percentile(latencies, 0.99)), "p99-µs")
	})
}

// percentile returns the p-quantile of sorted by the nearest-rank method,
// as storetest.BenchmarkAppend does.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(float64(len(sorted))*p)) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
