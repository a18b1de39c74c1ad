package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
)

// DefaultInboxRetention is Options.InboxRetention's default: a sender
// that retries for up to a week is still recognised.
const DefaultInboxRetention = 7 * 24 * time.Hour

// DefaultInboxMaxPending is Options.InboxMaxPending's default.
const DefaultInboxMaxPending = 100_000

var _ inbox.Inbox = (*Store)(nil)

var (
	bucketInbox          = []byte("inbox")
	bucketInboxLeases    = []byte("inboxleases")
	bucketInboxIDs       = []byte("inboxids")
	bucketInboxSeen      = []byte("inboxseen")
	bucketInboxSeenOrder = []byte("inboxseenorder")

	keyInboxPending = []byte("inbox_pending")
)

// seenPrunedPerPut bounds the expired IDs one Put forgets.
const seenPrunedPerPut = 64

// leaseLen is the length of a lease value: the lease's end in unix
// nanoseconds (0 for a delivery never taken), then the attempts so far.
const leaseLen = 12

// releaseLeases ends every lease, keeping the attempts counted.
func releaseLeases(tx *bolt.Tx) error {
	leases := tx.Bucket(bucketInboxLeases)
	var held [][]byte
	err := leases.ForEach(func(k, v []byte) error {
		if len(v) == leaseLen && binary.BigEndian.Uint64(v[:8]) != 0 {
			held = append(held, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range held {
		v := bytes.Clone(leases.Get(k))
		binary.BigEndian.PutUint64(v[:8], 0)
		if err := leases.Put(k, v); err != nil {
			return fmt.Errorf("release lease: %w", err)
		}
	}
	return nil
}

// storedDelivery is a pending delivery as the inbox bucket holds it.
type storedDelivery struct {
	ID         string            `json:"id"`
	Source     string            `json:"source"`
	Body       []byte            `json:"body"`
	Meta       map[string]string `json:"meta,omitempty"`
	ReceivedAt time.Time         `json:"received_at"`
}

// Put implements inbox.Inbox in one transaction, synced before it
// returns. A duplicate writes nothing and costs no sync.
func (s *Store) Put(ctx context.Context, d inbox.Delivery) (bool, error) {
	stored, err := s.put(ctx, d)
	if err != nil {
		return false, fmt.Errorf("boltstore: inbox put %.80s: %w", d.ID, err)
	}
	return stored, nil
}

func (s *Store) put(ctx context.Context, d inbox.Delivery) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := d.Validate(); err != nil {
		return false, err
	}
	data, err := json.Marshal(storedDelivery{
		ID: d.ID, Source: d.Source, Body: d.Body, Meta: d.Meta, ReceivedAt: d.ReceivedAt.UTC(),
	})
	if err != nil {
		return false, fmt.Errorf("encoding the delivery: %w", err)
	}
	var stored bool
	err = s.write(func(tx *bolt.Tx) (bool, error) {
		stored = false
		now := s.now().UnixNano()
		id := []byte(d.ID)
		ids, seen := tx.Bucket(bucketInboxIDs), tx.Bucket(bucketInboxSeen)
		if ids.Get(id) != nil {
			return false, nil // pending still: roll back
		}
		oldest := now - int64(s.inboxRetention)
		prev := seen.Get(id)
		if prev != nil && int64(binary.BigEndian.Uint64(prev)) > oldest {
			return false, nil // done within the retention
		}
		meta := tx.Bucket(bucketMeta)
		pending := inboxPending(meta)
		if pending >= uint64(s.inboxMaxPending) {
			return false, fmt.Errorf("%d deliveries are pending: %w", pending, inbox.ErrFull)
		}
		order := tx.Bucket(bucketInboxSeenOrder)
		if prev != nil {
			if err := order.Delete(append(bytes.Clone(prev), id...)); err != nil {
				return false, err
			}
		}
		if err := pruneSeen(seen, order, oldest); err != nil {
			return false, err
		}
		deliveries := tx.Bucket(bucketInbox)
		seq, err := deliveries.NextSequence()
		if err != nil {
			return false, err
		}
		if err := deliveries.Put(u64(seq), data); err != nil {
			return false, err
		}
		if err := tx.Bucket(bucketInboxLeases).Put(u64(seq), make([]byte, leaseLen)); err != nil {
			return false, err
		}
		if err := ids.Put(id, u64(seq)); err != nil {
			return false, err
		}
		if err := seen.Put(id, u64(uint64(now))); err != nil {
			return false, err
		}
		if err := order.Put(append(u64(uint64(now)), id...), nil); err != nil {
			return false, err
		}
		stored = true
		return true, meta.Put(keyInboxPending, u64(pending+1))
	})
	return stored, err
}

// pruneSeen forgets up to seenPrunedPerPut IDs seen at or before oldest.
func pruneSeen(seen, order *bolt.Bucket, oldest int64) error {
	var expired [][]byte
	c := order.Cursor()
	for k, _ := c.First(); k != nil && len(expired) < seenPrunedPerPut; k, _ = c.Next() {
		if int64(binary.BigEndian.Uint64(k[:8])) > oldest {
			break
		}
		expired = append(expired, bytes.Clone(k))
	}
	for _, k := range expired {
		if err := order.Delete(k); err != nil {
			return err
		}
		if v := seen.Get(k[8:]); v != nil && bytes.Equal(v, k[:8]) {
			if err := seen.Delete(k[8:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Take implements inbox.Inbox. It walks the leases in the order the
// deliveries were put and leases the first n that are free, in one
// synced transaction: the attempts survive a crash.
func (s *Store) Take(ctx context.Context, consumer string, n int, lease time.Duration) ([]inbox.Delivery, error) {
	taken, err := s.take(ctx, consumer, n, lease)
	if err != nil {
		return nil, fmt.Errorf("boltstore: inbox take for %s: %w", consumer, err)
	}
	return taken, nil
}

func (s *Store) take(ctx context.Context, consumer string, n int, lease time.Duration) ([]inbox.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if consumer == "" || lease <= 0 {
		return nil, fmt.Errorf("a take needs a consumer and a lease above 0, got %q and %v: %w", consumer, lease, incidents.ErrInvalid)
	}
	taken := []inbox.Delivery{}
	if n < 1 {
		return taken, nil
	}
	err := s.write(func(tx *bolt.Tx) (bool, error) {
		taken = taken[:0]
		now := s.now().UnixNano()
		leases, deliveries := tx.Bucket(bucketInboxLeases), tx.Bucket(bucketInbox)
		type free struct {
			seq      []byte
			attempts uint32
		}
		var frees []free
		c := leases.Cursor()
		for k, v := c.First(); k != nil && len(frees) < n; k, v = c.Next() {
			if len(v) != leaseLen {
				return false, fmt.Errorf("the lease of delivery %d is %d bytes long, not %d", binary.BigEndian.Uint64(k), len(v), leaseLen)
			}
			if int64(binary.BigEndian.Uint64(v[:8])) > now {
				continue // leased
			}
			frees = append(frees, free{seq: bytes.Clone(k), attempts: binary.BigEndian.Uint32(v[8:])})
		}
		until := u64(uint64(now + int64(lease)))
		for _, f := range frees {
			var sd storedDelivery
			if err := json.Unmarshal(deliveries.Get(f.seq), &sd); err != nil {
				return false, fmt.Errorf("decoding delivery %d: %w", binary.BigEndian.Uint64(f.seq), err)
			}
			attempts := f.attempts + 1
			if err := leases.Put(f.seq, binary.BigEndian.AppendUint32(bytes.Clone(until), attempts)); err != nil {
				return false, err
			}
			taken = append(taken, inbox.Delivery{
				ID: sd.ID, Source: sd.Source, Body: sd.Body, Meta: sd.Meta,
				ReceivedAt: sd.ReceivedAt.UTC(), Attempts: int(attempts),
			})
		}
		return len(taken) > 0, nil
	})
	if err != nil {
		return nil, err
	}
	return taken, nil
}

// Done implements inbox.Inbox. The ID stays in the seen bucket until
// the retention passes.
func (s *Store) Done(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: inbox done %.80s: %w", id, err)
	}
	err := s.write(func(tx *bolt.Tx) (bool, error) {
		ids := tx.Bucket(bucketInboxIDs)
		seq := ids.Get([]byte(id))
		if seq == nil {
			return false, nil
		}
		seq = bytes.Clone(seq)
		if err := tx.Bucket(bucketInbox).Delete(seq); err != nil {
			return false, err
		}
		if err := tx.Bucket(bucketInboxLeases).Delete(seq); err != nil {
			return false, err
		}
		if err := ids.Delete([]byte(id)); err != nil {
			return false, err
		}
		meta := tx.Bucket(bucketMeta)
		return true, meta.Put(keyInboxPending, u64(max(inboxPending(meta), 1)-1))
	})
	if err != nil {
		return fmt.Errorf("boltstore: inbox done %.80s: %w", id, err)
	}
	return nil
}

// Pending implements inbox.Inbox from a counter that Put and Done keep.
func (s *Store) Pending(ctx context.Context) (int, error) {
	var n uint64
	err := s.read(ctx, func(tx *bolt.Tx) error {
		n = inboxPending(tx.Bucket(bucketMeta))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("boltstore: inbox pending: %w", err)
	}
	return int(n), nil
}

func inboxPending(meta *bolt.Bucket) uint64 {
	v := meta.Get(keyInboxPending)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}
