package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Timeout is how long Open waits for the file's lock while another
	// process holds it, before it fails with ErrLocked; 0 means 1 s.
	Timeout time.Duration
	// InboxRetention is how long the inbox remembers a delivery's ID to
	// refuse it again; 0 means DefaultInboxRetention.
	InboxRetention time.Duration
	// InboxMaxPending is how many deliveries the inbox holds before Put
	// fails with inbox.ErrFull; 0 means DefaultInboxMaxPending.
	InboxMaxPending int
	// ReleaseInterval is how often the store drops the pages of its file
	// that bbolt mapped in memory from the process's resident set, on
	// Linux: the pages read or written since stay in the kernel's page
	// cache, but the process's RSS no longer grows with the file, that is
	// with the incidents kept. 0 means DefaultReleaseInterval; a negative
	// value never drops them.
	ReleaseInterval time.Duration
}

// DefaultReleaseInterval is Options.ReleaseInterval's default.
const DefaultReleaseInterval = 10 * time.Second

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = time.Second

// ErrLocked is wrapped by Open's error when another process (or another
// Store in this one) holds the file.
var ErrLocked = errors.New("boltstore: the incident store is in use by another process")

// lockedError is what the user reads when the file is locked; it is
// ErrLocked and bbolt's timeout.
type lockedError struct {
	path string
	err  error
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("the incident store %s is in use by another process (is breadcrumb serve running?)", e.path)
}

func (e *lockedError) Unwrap() []error { return []error{ErrLocked, e.err} }

// Store is an incidents.Store in a bbolt file.
type Store struct {
	db      *bolt.DB
	commits *committer
	path    string
	now     func() time.Time // for claims' expiry, the inbox's retention and leases

	inboxRetention  time.Duration
	inboxMaxPending int

	// stopRelease ends the loop that drops the mapped pages, which closes
	// released when it has returned.
	stopRelease, released chan struct{}
	closeOnce             sync.Once
}

var _ incidents.Store = (*Store)(nil)

var (
	bucketMeta        = []byte("meta")
	bucketIncidents   = []byte("incidents")
	bucketEvents      = []byte("events")
	bucketEventKeys   = []byte("eventkeys")
	bucketRefs        = []byte("refs")
	bucketCreated     = []byte("created")
	bucketClaims      = []byte("claims")
	bucketClaimExpiry = []byte("claimexpiry")

	allBuckets = [][]byte{
		bucketMeta, bucketIncidents, bucketEvents, bucketEventKeys,
		bucketRefs, bucketCreated, bucketClaims, bucketClaimExpiry,
		bucketInbox, bucketInboxLeases, bucketInboxIDs, bucketInboxSeen, bucketInboxSeenOrder,
	}

	keySchema = []byte("schema")
)

// schema is the version of the layout described in doc.go.
const schema = 1

// claimsPrunedPerWrite bounds the expired claims one Claim deletes.
const claimsPrunedPerWrite = 64

// Open opens the store in the file at path, creating the file (mode 0600)
// but not its directory. When another process holds the file it waits
// opts.Timeout, then returns an error that wraps ErrLocked.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: timeout,
		NoSync:  false, // a write that returned nil is durable: the Store contract
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &lockedError{path: path, err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("bucket %s: %w", name, err)
			}
		}
		// The file lock makes this process the only one on the file, so
		// the inbox's leases were held by a process that is gone: they are
		// released, and what it had taken is handed out again at once
		// rather than when its leases would have run out.
		if err := releaseLeases(tx); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySchema); v != nil {
			if got := binary.BigEndian.Uint64(v); got != schema {
				return fmt.Errorf("the file has layout %d and this breadcrumb knows layout %d only", got, schema)
			}
			return nil
		}
		return meta.Put(keySchema, u64(schema))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{db: db, commits: newCommitter(db), path: path, now: time.Now, inboxRetention: opts.InboxRetention, inboxMaxPending: opts.InboxMaxPending}
	if s.inboxRetention <= 0 {
		s.inboxRetention = DefaultInboxRetention
	}
	if s.inboxMaxPending <= 0 {
		s.inboxMaxPending = DefaultInboxMaxPending
	}
	s.stopRelease, s.released = make(chan struct{}), make(chan struct{})
	interval := opts.ReleaseInterval
	if interval == 0 {
		interval = DefaultReleaseInterval
	}
	go s.releaseLoop(interval)
	return s, nil
}

// releaseLoop drops the mapped pages every interval until Close.
func (s *Store) releaseLoop(interval time.Duration) {
	defer close(s.released)
	if interval < 0 {
		<-s.stopRelease
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stopRelease:
			return
		case <-t.C:
			// A failure costs memory only: the pages stay resident until
			// the next tick.
			_ = s.releaseMapped()
		}
	}
}

// Close commits the writes under way, then releases the file and its
// lock. A write after Close fails.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stopRelease) })
	<-s.released
	s.commits.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close %s: %w", s.path, err)
	}
	return nil
}

// Create implements incidents.Store.
func (s *Store) Create(ctx context.Context, inc *incidents.Incident, events []incidents.Event) error {
	if inc == nil {
		return fmt.Errorf("boltstore: create: no incident: %w", incidents.ErrInvalid)
	}
	if err := s.create(ctx, inc, events); err != nil {
		return fmt.Errorf("boltstore: create %s: %w", inc.ID, err)
	}
	inc.Version = 1
	return nil
}

func (s *Store) create(ctx context.Context, inc *incidents.Incident, events []incidents.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validate(inc, events); err != nil {
		return err
	}
	if inc.Version != 0 {
		return fmt.Errorf("a new incident has version 0, not %d: %w", inc.Version, incidents.ErrInvalid)
	}
	next := utcIncident(inc)
	next.Version = 1
	return s.write(func(tx *bolt.Tx) (bool, error) {
		id := []byte(inc.ID)
		if tx.Bucket(bucketIncidents).Get(id) != nil {
			return false, fmt.Errorf("the ID is taken: %w", incidents.ErrConflict)
		}
		if err := putIncident(tx, nil, next); err != nil {
			return false, err
		}
		if _, err := tx.Bucket(bucketEvents).CreateBucket(id); err != nil {
			return false, err
		}
		if _, err := tx.Bucket(bucketEventKeys).CreateBucket(id); err != nil {
			return false, err
		}
		_, err := appendEvents(tx, inc.ID, events)
		return true, err
	})
}

// Get implements incidents.Store.
func (s *Store) Get(ctx context.Context, id string) (*incidents.Incident, error) {
	var inc *incidents.Incident
	err := s.read(ctx, func(tx *bolt.Tx) (err error) {
		inc, err = getIncident(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: get %s: %w", id, err)
	}
	return inc, nil
}

// Update implements incidents.Store.
func (s *Store) Update(ctx context.Context, inc *incidents.Incident, events []incidents.Event) ([]incidents.Event, error) {
	if inc == nil {
		return nil, fmt.Errorf("boltstore: update: no incident: %w", incidents.ErrInvalid)
	}
	stored, err := s.update(ctx, inc, events)
	if err != nil {
		return nil, fmt.Errorf("boltstore: update %s: %w", inc.ID, err)
	}
	inc.Version++
	return stored, nil
}

func (s *Store) update(ctx context.Context, inc *incidents.Incident, events []incidents.Event) ([]incidents.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validate(inc, events); err != nil {
		return nil, err
	}
	next := utcIncident(inc)
	next.Version = inc.Version + 1
	var stored []incidents.Event
	err := s.write(func(tx *bolt.Tx) (_ bool, err error) {
		old, err := getIncident(tx, inc.ID)
		if err != nil {
			return false, err
		}
		if old.Version != inc.Version {
			return false, fmt.Errorf("the stored version is %d, not %d: %w", old.Version, inc.Version, incidents.ErrConflict)
		}
		if err := putIncident(tx, old, next); err != nil {
			return false, err
		}
		stored, err = appendEvents(tx, inc.ID, events)
		return true, err
	})
	return stored, err
}

// Append implements incidents.Store.
func (s *Store) Append(ctx context.Context, id string, events []incidents.Event) ([]incidents.Event, error) {
	stored, err := s.append(ctx, id, events)
	if err != nil {
		return nil, fmt.Errorf("boltstore: append %s: %w", id, err)
	}
	return stored, nil
}

func (s *Store) append(ctx context.Context, id string, events []incidents.Event) ([]incidents.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validateEvents(events); err != nil {
		return nil, err
	}
	var stored []incidents.Event
	err := s.write(func(tx *bolt.Tx) (_ bool, err error) {
		if tx.Bucket(bucketIncidents).Get([]byte(id)) == nil {
			return false, incidents.ErrNotFound
		}
		stored, err = appendEvents(tx, id, events)
		return len(stored) > 0, err
	})
	return stored, err
}

// HasEvent implements incidents.Store. It returns ErrNotFound for an
// unknown incident.
func (s *Store) HasEvent(ctx context.Context, id, key string) (bool, error) {
	var has bool
	err := s.read(ctx, func(tx *bolt.Tx) error {
		keys := tx.Bucket(bucketEventKeys).Bucket([]byte(id))
		if keys == nil {
			return incidents.ErrNotFound
		}
		has = key != "" && keys.Get([]byte(key)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("boltstore: has event %s %s: %w", id, key, err)
	}
	return has, nil
}

// Events implements incidents.Store. A negative after is 0; a limit of 0
// or less means all.
func (s *Store) Events(ctx context.Context, id string, after int64, limit int) ([]incidents.Event, error) {
	var events []incidents.Event
	err := s.read(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents).Bucket([]byte(id))
		if b == nil {
			return incidents.ErrNotFound
		}
		c := b.Cursor()
		for k, v := c.Seek(u64(uint64(max(after, 0)) + 1)); k != nil; k, v = c.Next() {
			if limit > 0 && len(events) == limit {
				break
			}
			var e incidents.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decoding event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			events = append(events, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: events %s: %w", id, err)
	}
	return events, nil
}

// List implements incidents.Store.
func (s *Store) List(ctx context.Context, f incidents.Filter) ([]*incidents.Incident, error) {
	var list []*incidents.Incident
	err := s.read(ctx, func(tx *bolt.Tx) error {
		incs := tx.Bucket(bucketIncidents)
		c := tx.Bucket(bucketCreated).Cursor()
		var k, v []byte
		if f.To.IsZero() {
			k, v = c.Last()
		} else if k, _ = c.Seek(timeKey(f.To)); k == nil {
			k, v = c.Last() // every incident is older than To
		} else {
			k, v = c.Prev() // the newest one older than To
		}
		// The index holds each incident's status and service, so that most
		// incidents are skipped without decoding them; the fields it does
		// not hold are checked on the decoded incident.
		pre := incidents.Filter{Statuses: f.Statuses, Open: f.Open, Service: f.Service}
		for ; k != nil; k, v = c.Prev() {
			if f.Limit > 0 && len(list) == f.Limit {
				break
			}
			created := keyTime(k)
			if !f.From.IsZero() && created.Before(f.From) {
				break
			}
			status, service, _ := strings.Cut(string(v), "\x00")
			if !pre.Match(&incidents.Incident{Status: incidents.Status(status), Service: service, CreatedAt: created}) {
				continue
			}
			id := k[timeKeyLen:]
			inc, err := decodeIncident(id, incs.Get(id))
			if err != nil {
				return err
			}
			if f.Match(inc) {
				list = append(list, inc)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: list: %w", err)
	}
	return list, nil
}

// FindByRef implements incidents.Store.
func (s *Store) FindByRef(ctx context.Context, kind, value string) (*incidents.Incident, error) {
	var inc *incidents.Incident
	err := s.read(ctx, func(tx *bolt.Tx) (err error) {
		id := tx.Bucket(bucketRefs).Get(refKey(kind, value))
		if id == nil {
			return incidents.ErrNotFound
		}
		inc, err = getIncident(tx, string(id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: find ref %s=%s: %w", kind, value, err)
	}
	return inc, nil
}

// Claim implements incidents.Store. A claim expires ttl after it was
// written by this machine's clock; a ttl of 0 or less, or an empty key,
// is ErrInvalid.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	first, err := s.claim(ctx, key, ttl)
	if err != nil {
		return false, fmt.Errorf("boltstore: claim %s: %w", key, err)
	}
	return first, nil
}

func (s *Store) claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if key == "" || ttl <= 0 {
		return false, fmt.Errorf("a claim needs a key and a ttl above 0, got %q and %v: %w", key, ttl, incidents.ErrInvalid)
	}
	var first bool
	err := s.write(func(tx *bolt.Tx) (bool, error) {
		first = false
		now := s.now().UnixNano()
		claims, expiry := tx.Bucket(bucketClaims), tx.Bucket(bucketClaimExpiry)
		if err := pruneClaims(claims, expiry, now); err != nil {
			return false, err
		}
		k := []byte(key)
		if v := claims.Get(k); v != nil {
			until := int64(binary.BigEndian.Uint64(v))
			if now < until {
				return false, nil // held: roll back, pruning too
			}
			if err := expiry.Delete(expiryKey(until, key)); err != nil {
				return false, err
			}
		}
		until := now + int64(ttl)
		if err := claims.Put(k, u64(uint64(until))); err != nil {
			return false, err
		}
		first = true
		return true, expiry.Put(expiryKey(until, key), nil)
	})
	return first, err
}

// pruneClaims deletes up to claimsPrunedPerWrite claims expired at now.
func pruneClaims(claims, expiry *bolt.Bucket, now int64) error {
	var expired [][]byte
	c := expiry.Cursor()
	for k, _ := c.First(); k != nil && len(expired) < claimsPrunedPerWrite; k, _ = c.Next() {
		if int64(binary.BigEndian.Uint64(k[:8])) > now {
			break
		}
		expired = append(expired, bytes.Clone(k))
	}
	for _, k := range expired {
		if err := expiry.Delete(k); err != nil {
			return err
		}
		if v := claims.Get(k[8:]); v != nil && bytes.Equal(v, k[:8]) {
			if err := claims.Delete(k[8:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// read runs fn in a read transaction.
func (s *Store) read(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// write runs fn in a write transaction, shared with the writes queued
// beside it (see committer and writeFunc), and returns once that
// transaction is committed and synced, or rolled back when nothing in it
// changed.
func (s *Store) write(fn writeFunc) error { return s.commits.write(fn) }

// validate checks an incident and its events before a transaction starts.
func validate(inc *incidents.Incident, events []incidents.Event) error {
	if err := inc.Validate(); err != nil {
		return err
	}
	for kind := range inc.Refs {
		if kind == "" || strings.ContainsRune(kind, 0) {
			return fmt.Errorf("reference kind %q is empty or holds a NUL: %w", kind, incidents.ErrInvalid)
		}
	}
	return validateEvents(events)
}

func validateEvents(events []incidents.Event) error {
	for _, e := range events {
		if err := e.Validate(); err != nil {
			return err
		}
	}
	return nil
}

func getIncident(tx *bolt.Tx, id string) (*incidents.Incident, error) {
	return decodeIncident([]byte(id), tx.Bucket(bucketIncidents).Get([]byte(id)))
}

func decodeIncident(id, data []byte) (*incidents.Incident, error) {
	if data == nil {
		return nil, incidents.ErrNotFound
	}
	var inc incidents.Incident
	if err := json.Unmarshal(data, &inc); err != nil {
		return nil, fmt.Errorf("decoding incident %s: %w", id, err)
	}
	return &inc, nil
}

// putIncident stores next in place of old (nil for a new incident), and
// keeps the references and the created index in step.
func putIncident(tx *bolt.Tx, old, next *incidents.Incident) error {
	id := []byte(next.ID)
	refs := tx.Bucket(bucketRefs)
	for kind, value := range next.Refs {
		holder := refs.Get(refKey(kind, value))
		if holder != nil && !bytes.Equal(holder, id) {
			return fmt.Errorf("reference %s=%s belongs to %s: %w", kind, value, holder, incidents.ErrConflict)
		}
	}
	created := tx.Bucket(bucketCreated)
	if old != nil {
		for kind, value := range old.Refs {
			if next.Refs[kind] != value {
				if err := refs.Delete(refKey(kind, value)); err != nil {
					return err
				}
			}
		}
		if err := created.Delete(createdKey(old.CreatedAt, old.ID)); err != nil {
			return err
		}
	}
	for kind, value := range next.Refs {
		if err := refs.Put(refKey(kind, value), id); err != nil {
			return err
		}
	}
	if err := created.Put(createdKey(next.CreatedAt, next.ID), []byte(string(next.Status)+"\x00"+next.Service)); err != nil {
		return err
	}
	data, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("encoding incident %s: %w", next.ID, err)
	}
	return tx.Bucket(bucketIncidents).Put(id, data)
}

// appendEvents stores the events whose keys the timeline lacks and
// returns them, numbered.
func appendEvents(tx *bolt.Tx, id string, events []incidents.Event) ([]incidents.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	timeline := tx.Bucket(bucketEvents).Bucket([]byte(id))
	keys := tx.Bucket(bucketEventKeys).Bucket([]byte(id))
	if timeline == nil || keys == nil {
		return nil, fmt.Errorf("incident %s has no timeline", id)
	}
	var stored []incidents.Event
	for _, e := range events {
		if keys.Get([]byte(e.Key)) != nil {
			continue
		}
		seq, err := timeline.NextSequence()
		if err != nil {
			return nil, err
		}
		e.IncidentID, e.Seq = id, int64(seq)
		e.At, e.RecordedAt = e.At.UTC(), e.RecordedAt.UTC()
		e.Data = maps.Clone(e.Data)
		data, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encoding event %s: %w", e.Key, err)
		}
		if err := timeline.Put(u64(seq), data); err != nil {
			return nil, err
		}
		if err := keys.Put([]byte(e.Key), u64(seq)); err != nil {
			return nil, fmt.Errorf("event key %.40q: %w", e.Key, err)
		}
		stored = append(stored, e)
	}
	return stored, nil
}

// utcIncident returns a copy of inc with its times in UTC.
func utcIncident(inc *incidents.Incident) *incidents.Incident {
	c := inc.Clone()
	c.CreatedAt = c.CreatedAt.UTC()
	c.AcknowledgedAt = c.AcknowledgedAt.UTC()
	c.MitigatedAt = c.MitigatedAt.UTC()
	c.ResolvedAt = c.ResolvedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	for i := range c.Steps {
		c.Steps[i].At = c.Steps[i].At.UTC()
	}
	return c
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func refKey(kind, value string) []byte { return []byte(kind + "\x00" + value) }

// timeKeyLen is the length of timeKey's result.
const timeKeyLen = 12

// timeKey encodes t so that byte order is time order, for every time
// (the zero time too, which UnixNano cannot hold): the seconds with their
// sign bit flipped, then the nanoseconds.
func timeKey(t time.Time) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
}

func keyTime(k []byte) time.Time {
	sec := int64(binary.BigEndian.Uint64(k[:8]) ^ (1 << 63))
	return time.Unix(sec, int64(binary.BigEndian.Uint32(k[8:timeKeyLen])))
}

func createdKey(t time.Time, id string) []byte { return append(timeKey(t), id...) }

func expiryKey(until int64, key string) []byte { return append(u64(uint64(until)), key...) }
