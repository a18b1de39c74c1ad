package redisstore_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/redisstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/storetest"
	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
)

func TestLeaseConformance(t *testing.T) {
	c, prefix := redistest.Client(t)
	ps := &prefixes{base: prefix}
	storetest.RunLeaseTests(t, func(t *testing.T) replica.Leaser {
		return redisstore.New(c, redisstore.Options{Prefix: ps.next()})
	})
}

// TestLeaseConformanceAcrossTwoReplicas runs the suite against two
// Stores on two clients sharing one prefix, each call going to the next.
func TestLeaseConformanceAcrossTwoReplicas(t *testing.T) {
	opts, prefix := redistest.Server(t)
	c1, c2 := redis.NewClient(opts), redis.NewClient(opts)
	t.Cleanup(func() { c1.Close(); c2.Close() })
	ps := &prefixes{base: prefix}
	storetest.RunLeaseTests(t, func(t *testing.T) replica.Leaser {
		p := ps.next()
		return &leaseReplicas{stores: []*redisstore.Store{
			redisstore.New(c1, redisstore.Options{Prefix: p}),
			redisstore.New(c2, redisstore.Options{Prefix: p}),
		}}
	})
}

// leaseReplicas is an replica.Leaser that sends each call to the next
// of its stores in turn.
type leaseReplicas struct {
	stores []*redisstore.Store
	n      atomic.Int64
}

func (r *leaseReplicas) next() *redisstore.Store {
	return r.stores[int(r.n.Add(1))%len(r.stores)]
}

func (r *leaseReplicas) Lead(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	return r.next().Lead(ctx, name, holder, ttl)
}

func (r *leaseReplicas) Resign(ctx context.Context, name, holder string) error {
	return r.next().Resign(ctx, name, holder)
}

// TestALeaseIsOneKeyUnderThePrefix: the lease lives in "lease:NAME"
// under the prefix, holds the holder and expires with the lease.
func TestALeaseIsOneKeyUnderThePrefix(t *testing.T) {
	c, prefix := redistest.Client(t)
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	if held, err := s.Lead(t.Context(), "leader", "replica-a", time.Minute); err != nil || !held {
		t.Fatalf("Lead = %v, %v, want true, nil", held, err)
	}
	key := prefix + "lease:leader"
	if got, err := c.Get(t.Context(), key).Result(); err != nil || got != "replica-a" {
		t.Errorf("GET %s = %q, %v, want replica-a", key, got, err)
	}
	if ttl, err := c.PTTL(t.Context(), key).Result(); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("PTTL %s = %v, %v, want above 0 and at most 1m", key, ttl, err)
	}
	if err := s.Resign(t.Context(), "leader", "replica-a"); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(t.Context(), key).Result(); err != nil || n != 0 {
		t.Errorf("after Resign, EXISTS %s = %d, %v, want 0", key, n, err)
	}
}

// BenchmarkLead times a renewal of a held lease (the elector's call every
// ttl/3), against a raw SET PX of the same key as the baseline, measured
// in the same run.
func BenchmarkLead(b *testing.B) {
	c, prefix := redistest.Client(b)
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	b.Run("lead", func(b *testing.B) {
		for b.Loop() {
			if held, err := s.Lead(b.Context(), "leader", "replica-a", time.Minute); err != nil || !held {
				b.Fatalf("Lead = %v, %v", held, err)
			}
		}
	})
	b.Run("raw SET PX", func(b *testing.B) {
		for b.Loop() {
			if err := c.Set(b.Context(), prefix+"raw", "replica-a", time.Minute).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
