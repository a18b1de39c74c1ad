package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/redisstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/storetest"
	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
)

func TestInboxConformance(t *testing.T) {
	c, prefix := redistest.Client(t)
	ps := &prefixes{base: prefix}
	storetest.RunInboxTests(t, func(t *testing.T, maxPending int) inbox.Inbox {
		return redisstore.New(c, redisstore.Options{Prefix: ps.next(), InboxMaxPending: maxPending})
	})
}

// TestInboxConformanceAcrossTwoReplicas runs the inbox suite against two
// Stores on two clients sharing one prefix, calls going to each in turn:
// what one replica puts or leases, the other sees.
func TestInboxConformanceAcrossTwoReplicas(t *testing.T) {
	opts, prefix := redistest.Server(t)
	c1, c2 := redis.NewClient(opts), redis.NewClient(opts)
	t.Cleanup(func() { c1.Close(); c2.Close() })
	ps := &prefixes{base: prefix}
	storetest.RunInboxTests(t, func(t *testing.T, maxPending int) inbox.Inbox {
		p := ps.next()
		return &replicaInboxes{inboxes: []inbox.Inbox{
			redisstore.New(c1, redisstore.Options{Prefix: p, InboxMaxPending: maxPending}),
			redisstore.New(c2, redisstore.Options{Prefix: p, InboxMaxPending: maxPending}),
		}}
	})
}

// replicaInboxes is an inbox.Inbox that sends each call to the next
// of its inboxes in turn.
type replicaInboxes struct {
	inboxes []inbox.Inbox
	n       atomic.Int64
}

func (r *replicaInboxes) next() inbox.Inbox {
	return r.inboxes[int(r.n.Add(1))%len(r.inboxes)]
}

func (r *replicaInboxes) Put(ctx context.Context, d inbox.Delivery) (bool, error) {
	return r.next().Put(ctx, d)
}

func (r *replicaInboxes) Take(ctx context.Context, consumer string, n int, lease time.Duration) ([]inbox.Delivery, error) {
	return r.next().Take(ctx, consumer, n, lease)
}

func (r *replicaInboxes) Done(ctx context.Context, id string) error { return r.next().Done(ctx, id) }

func (r *replicaInboxes) Pending(ctx context.Context) (int, error) { return r.next().Pending(ctx) }

func TestInboxKeysAreUnderThePrefixAndIDsExpireWithTheRetention(t *testing.T) {
	// A server of the test's own: every key on it is the store's.
	addr, _, _ := redistest.StartServer(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	const prefix = "{bc}:"
	ctx := t.Context()
	s := redisstore.New(c, redisstore.Options{Prefix: prefix, InboxRetention: time.Hour})
	d := inbox.Delivery{ID: "pagerduty:E1", Source: "pagerduty", Body: []byte("{}")}
	if stored, err := s.Put(ctx, d); err != nil || !stored {
		t.Fatalf("Put = %v, %v, want true, nil", stored, err)
	}
	if _, err := s.Take(ctx, "c1", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	seen := prefix + "inbox:seen:" + d.ID
	ttl, err := c.PTTL(ctx, seen).Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("PTTL(%s) after Done = %v, %v, want just under the hour of retention", seen, ttl, err)
	}
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Errorf("the server holds no keys after a Put")
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("key %q is outside the prefix %q", k, prefix)
		}
	}
	// Once the ID expires, the same delivery is new again.
	if err := c.Del(ctx, seen).Err(); err != nil {
		t.Fatal(err)
	}
	if stored, err := s.Put(ctx, d); err != nil || !stored {
		t.Errorf("Put once the seen key expired = %v, %v, want true, nil", stored, err)
	}
}

func TestInboxDefaults(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := t.Context()
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	d := inbox.Delivery{ID: "am:1", Source: "alertmanager", Body: []byte("{}")}
	if _, err := s.Put(ctx, d); err != nil {
		t.Fatal(err)
	}
	ttl, err := c.PTTL(ctx, prefix+"inbox:seen:am:1").Result()
	if err != nil || ttl <= redisstore.DefaultInboxRetention-time.Minute || ttl > redisstore.DefaultInboxRetention {
		t.Errorf("the seen key's PTTL = %v, %v, want about %v", ttl, err, redisstore.DefaultInboxRetention)
	}
}

// TestAcknowledgedPutsSurviveRedisKill puts deliveries into a redis-server
// that fsyncs every write, kills it with SIGKILL, restarts it on the same
// directory, and checks that every delivery acknowledged is pending, in
// order, and still refused as a duplicate.
func TestAcknowledgedPutsSurviveRedisKill(t *testing.T) {
	addr, stop, restart := redistest.StartServer(t)
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	ctx := t.Context()
	s := redisstore.New(c, redisstore.Options{})
	const n = 200
	var want []string
	for i := range n {
		d := inbox.Delivery{ID: fmt.Sprintf("am:%03d", i), Source: "alertmanager", Body: []byte(fmt.Sprint(i))}
		if stored, err := s.Put(ctx, d); err != nil || !stored {
			t.Fatalf("Put(%s) = %v, %v", d.ID, stored, err)
		}
		want = append(want, d.ID)
	}
	// Lease a few: the leases survive too.
	if _, err := s.Take(ctx, "before", 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	stop()
	restart()

	c2 := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c2.Close() })
	s2 := redisstore.New(c2, redisstore.Options{})
	if got, err := s2.Pending(ctx); err != nil || got != n {
		t.Errorf("Pending() after the kill = %d, %v, want %d", got, err, n)
	}
	if stored, err := s2.Put(ctx, inbox.Delivery{ID: "am:000", Source: "alertmanager", Body: []byte("again")}); err != nil || stored {
		t.Errorf("Put(am:000) after the kill = %v, %v, want false, nil", stored, err)
	}
	got, err := s2.Take(ctx, "after", 2*n, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range got {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, want[10:]) {
		t.Errorf("Take after the kill = %d deliveries, want the %d not leased before it, in order", len(ids), n-10)
	}
}

// TestTwoReplicasProcessEveryDeliveryOnce runs two Workers, each on its own
// client and Store (two replicas), on one inbox, with deliveries put
// through both while they run: every delivery is handled once, by one
// replica, and none is lost.
func TestTwoReplicasProcessEveryDeliveryOnce(t *testing.T) {
	opts, prefix := redistest.Server(t)
	const total = 300
	var (
		mu      sync.Mutex
		handled = map[string]int{}
		by      = map[string]int{}
	)
	handler := func(replica string) inbox.Handler {
		return inbox.HandlerFunc(func(ctx context.Context, d inbox.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			handled[d.ID]++
			by[replica]++
			return nil
		})
	}
	var stores []*redisstore.Store
	var workers []*inbox.Worker
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		c := redis.NewClient(opts)
		t.Cleanup(func() { c.Close() })
		s := redisstore.New(c, redisstore.Options{Prefix: prefix})
		w := inbox.NewWorker(s, map[string]inbox.Handler{"alertmanager": handler(name)},
			inbox.WorkerOptions{Consumer: name, Batch: 8, Poll: 5 * time.Millisecond})
		stores, workers = append(stores, s), append(workers, w)
		wg.Go(func() {
			if err := w.Run(ctx); err != nil {
				t.Errorf("Run(%s) = %v", name, err)
			}
		})
	}
	for i := range total {
		d := inbox.Delivery{ID: fmt.Sprintf("am:%03d", i), Source: "alertmanager", Body: []byte("{}")}
		// Each delivery arrives twice, at either replica.
		for j := range 2 {
			if _, err := stores[(i+j)%2].Put(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		workers[i%2].Kick()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := stores[0].Pending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending after 30s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	if len(handled) != total {
		t.Errorf("%d distinct deliveries handled, want %d", len(handled), total)
	}
	for id, n := range handled {
		if n != 1 {
			t.Errorf("delivery %s handled %d times, want once", id, n)
		}
	}
	t.Logf("replica a handled %d, b %d", by["a"], by["b"])
	var sum uint64
	for _, w := range workers {
		sum += w.Stats().Processed
	}
	if sum != total {
		t.Errorf("the workers' Processed add up to %d, want %d", sum, total)
	}
}

func TestInboxFullIsErrFull(t *testing.T) {
	c, prefix := redistest.Client(t)
	s := redisstore.New(c, redisstore.Options{Prefix: prefix, InboxMaxPending: 1})
	ctx := t.Context()
	if _, err := s.Put(ctx, inbox.Delivery{ID: "a", Source: "slack", Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Put(ctx, inbox.Delivery{ID: "b", Source: "slack", Body: []byte("x")})
	if !errors.Is(err, inbox.ErrFull) || !strings.Contains(err.Error(), "1 deliveries are pending") {
		t.Errorf("Put into a full inbox = %v, want ErrFull saying how many are pending", err)
	}
}

// BenchmarkInboxPut times the store's Put (storetest.BenchmarkInboxPut)
// and, as its baseline, a plain XADD of the same body to a stream on the
// same server, each reporting p50-µs and p99-µs. What the store adds is
// the script: the dedupe checks, the count of pending deliveries, the
// hash of pending IDs and the seen key with its expiry.
func BenchmarkInboxPut(b *testing.B) {
	opts, prefix := redistest.Server(b)
	c := redis.NewClient(opts)
	b.Cleanup(func() { c.Close() })
	benchmarkInboxPut(b, c, prefix)
}

// BenchmarkInboxPutFsyncAlways is BenchmarkInboxPut on a redis-server of
// its own that fsyncs its append-only file before every reply, as a
// deployment that relies on the inbox must run it.
func BenchmarkInboxPutFsyncAlways(b *testing.B) {
	addr, _, _ := redistest.StartServer(b)
	c := redis.NewClient(&redis.Options{Addr: addr})
	b.Cleanup(func() { c.Close() })
	benchmarkInboxPut(b, c, "bench:")
}

func benchmarkInboxPut(b *testing.B, c *redis.Client, prefix string) {
	var n atomic.Int64

	b.Run("store", func(b *testing.B) {
		storetest.BenchmarkInboxPut(b, func(b *testing.B) inbox.Inbox {
			return redisstore.New(c, redisstore.Options{Prefix: fmt.Sprintf("%sstore%d:", prefix, n.Add(1)), InboxMaxPending: 1 << 30})
		})
	})

	b.Run("raw-XADD", func(b *testing.B) {
		ctx := b.Context()
		stream := fmt.Sprintf("%sraw%d", prefix, n.Add(1))
		body := storetest.InboxBenchBody()
		latencies := make([]time.Duration, 0, 4096)
		i := 0
		for b.Loop() {
			i++
			start := time.Now()
			err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"id", fmt.Sprintf("bench:%d", i), "body", body}}).Err()
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
