package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
)

var _ replica.Leaser = (*Store)(nil)

// Lead implements replica.Leaser with one script (leadScript) on the
// key "lease:NAME" under the store's prefix, whose value is the holder
// and whose time to live is the lease's: the server's clock alone says
// when a lease runs out, so the replicas' clocks need not agree.
func (s *Store) Lead(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" {
		return false, fmt.Errorf("redisstore: lead %q: a lease needs a name and a holder: %w", name, incidents.ErrInvalid)
	}
	if ttl <= 0 {
		return false, fmt.Errorf("redisstore: lead %s: ttl %v is not positive: %w", name, ttl, incidents.ErrInvalid)
	}
	held, err := leadScript.Run(ctx, s.client, []string{s.leaseKey(name)}, holder, ceilMillis(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: lead %s: %w", name, err)
	}
	return held == 1, nil
}

// Resign implements replica.Leaser: the key is deleted only while
// holder's name is in it (resignScript).
func (s *Store) Resign(ctx context.Context, name, holder string) error {
	if name == "" || holder == "" {
		return fmt.Errorf("redisstore: resign %q: a lease needs a name and a holder: %w", name, incidents.ErrInvalid)
	}
	if err := resignScript.Run(ctx, s.client, []string{s.leaseKey(name)}, holder).Err(); err != nil {
		return fmt.Errorf("redisstore: resign %s: %w", name, err)
	}
	return nil
}

func (s *Store) leaseKey(name string) string { return s.prefix + "lease:" + name }
