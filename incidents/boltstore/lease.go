package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
)

var _ replica.Leaser = (*Store)(nil)

// bucketLeases holds the leases: name → expiry (unix nanoseconds, 8
// bytes, big-endian) + holder. It is made by the first Lead.
var bucketLeases = []byte("leases")

// Lead implements replica.Leaser. The file lock makes this process the
// only one on the file, so its leases are held by its own electors: the
// lease is kept with the same rules as a shared store's, for the same
// code to run over either, and it costs a synced write per renewal.
func (s *Store) Lead(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" {
		return false, fmt.Errorf("boltstore: lead %q: a lease needs a name and a holder: %w", name, incidents.ErrInvalid)
	}
	if ttl <= 0 {
		return false, fmt.Errorf("boltstore: lead %s: ttl %v is not positive: %w", name, ttl, incidents.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("boltstore: lead %s: %w", name, err)
	}
	var held bool
	err := s.write(func(tx *bolt.Tx) (bool, error) {
		held = false
		b, err := tx.CreateBucketIfNotExists(bucketLeases)
		if err != nil {
			return false, err
		}
		now := s.now().UnixNano()
		if v := b.Get([]byte(name)); len(v) >= 8 {
			until, cur := int64(binary.BigEndian.Uint64(v)), string(v[8:])
			if cur != holder && now < until {
				return false, nil // another's, and running: roll back
			}
		}
		held = true
		return true, b.Put([]byte(name), append(u64(uint64(now+int64(ttl))), holder...))
	})
	if err != nil {
		return false, fmt.Errorf("boltstore: lead %s: %w", name, err)
	}
	return held, nil
}

// Resign implements replica.Leaser.
func (s *Store) Resign(ctx context.Context, name, holder string) error {
	if name == "" || holder == "" {
		return fmt.Errorf("boltstore: resign %q: a lease needs a name and a holder: %w", name, incidents.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: resign %s: %w", name, err)
	}
	err := s.write(func(tx *bolt.Tx) (bool, error) {
		b := tx.Bucket(bucketLeases)
		if b == nil {
			return false, nil
		}
		if v := b.Get([]byte(name)); len(v) < 8 || string(v[8:]) != holder {
			return false, nil
		}
		return true, b.Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("boltstore: resign %s: %w", name, err)
	}
	return nil
}
