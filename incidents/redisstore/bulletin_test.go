package redisstore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/redisstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/storetest"
	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
)

func TestBulletinConformance(t *testing.T) {
	c, prefix := redistest.Client(t)
	ps := &prefixes{base: prefix}
	storetest.RunBulletinTests(t, func(t *testing.T) replica.Bulletin {
		return redisstore.New(c, redisstore.Options{Prefix: ps.next()})
	})
}

// TestBulletinConformanceAcrossTwoReplicas runs the suite against two
// Stores on two clients sharing one prefix, each call going to the next:
// what one replica publishes, the other reads.
func TestBulletinConformanceAcrossTwoReplicas(t *testing.T) {
	opts, prefix := redistest.Server(t)
	c1, c2 := redis.NewClient(opts), redis.NewClient(opts)
	t.Cleanup(func() { c1.Close(); c2.Close() })
	ps := &prefixes{base: prefix}
	storetest.RunBulletinTests(t, func(t *testing.T) replica.Bulletin {
		p := ps.next()
		return &bulletinReplicas{stores: []*redisstore.Store{
			redisstore.New(c1, redisstore.Options{Prefix: p}),
			redisstore.New(c2, redisstore.Options{Prefix: p}),
		}}
	})
}

// bulletinReplicas is an replica.Bulletin that sends each call to the
// next of its stores in turn.
type bulletinReplicas struct {
	stores []*redisstore.Store
	n      atomic.Int64
}

func (r *bulletinReplicas) next() *redisstore.Store {
	return r.stores[int(r.n.Add(1))%len(r.stores)]
}

func (r *bulletinReplicas) Publish(ctx context.Context, key, value string) error {
	return r.next().Publish(ctx, key, value)
}

func (r *bulletinReplicas) Read(ctx context.Context, key string) (string, bool, error) {
	return r.next().Read(ctx, key)
}

// TestABulletinValueIsOneKeyUnderThePrefix: a value lives in
// "board:KEY" under the prefix, with no expiry.
func TestABulletinValueIsOneKeyUnderThePrefix(t *testing.T) {
	c, prefix := redistest.Client(t)
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	if err := s.Publish(t.Context(), "runbooks:rev:payments", "abc"); err != nil {
		t.Fatal(err)
	}
	key := prefix + "board:runbooks:rev:payments"
	if got, err := c.Get(t.Context(), key).Result(); err != nil || got != "abc" {
		t.Errorf("GET %s = %q, %v, want abc", key, got, err)
	}
	if ttl, err := c.PTTL(t.Context(), key).Result(); err != nil || ttl != -1 {
		t.Errorf("PTTL %s = %v, %v, want -1 (no expiry)", key, ttl, err)
	}
}
