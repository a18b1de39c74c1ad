package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key when Options.Prefix is empty.
const DefaultPrefix = "breadcrumb:"

// replayTTL is how long a write's result is kept for a replay of the same
// call; go-redis retries within seconds.
const replayTTL = 10 * time.Minute

// listPage is how many incidents List reads per round trip.
const listPage = 200

// Options configure a Store.
type Options struct {
	// Prefix starts every key; empty means DefaultPrefix. On Redis
	// Cluster it must hold a hash tag, such as "{breadcrumb}:".
	Prefix string
	// InboxRetention is how long the inbox remembers a delivery's ID to
	// refuse it again; 0 means DefaultInboxRetention.
	InboxRetention time.Duration
	// InboxMaxPending is how many deliveries the inbox holds before Put
	// fails with inbox.ErrFull; 0 means DefaultInboxMaxPending.
	InboxMaxPending int
}

// Store is an incidents.Store in Redis. It is safe for concurrent use by
// several goroutines and by several processes sharing one server.
type Store struct {
	client redis.UniversalClient
	prefix string

	inboxRetention  time.Duration
	inboxMaxPending int
}

var _ incidents.Store = (*Store)(nil)

// New returns a Store that keeps its data in client's server, under
// opts.Prefix. The client stays the caller's: Close does not close it, so
// that one client can serve several stores.
func New(client redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.InboxRetention <= 0 {
		opts.InboxRetention = DefaultInboxRetention
	}
	if opts.InboxMaxPending <= 0 {
		opts.InboxMaxPending = DefaultInboxMaxPending
	}
	return &Store{client: client, prefix: opts.Prefix, inboxRetention: opts.InboxRetention, inboxMaxPending: opts.InboxMaxPending}
}

// Create implements incidents.Store.
func (s *Store) Create(ctx context.Context, inc *incidents.Incident, events []incidents.Event) error {
	if inc == nil {
		return fmt.Errorf("redisstore: create: no incident: %w", incidents.ErrInvalid)
	}
	if err := inc.Validate(); err != nil {
		return fmt.Errorf("redisstore: create: %w", err)
	}
	if inc.Version != 0 {
		return fmt.Errorf("redisstore: create %s: version is %d, not 0: %w", inc.ID, inc.Version, incidents.ErrInvalid)
	}
	w, err := s.prepareWrite(inc, 1, events)
	if err != nil {
		return fmt.Errorf("redisstore: create %s: %w", inc.ID, err)
	}
	if _, err := s.runWrite(ctx, createScript, w.keys, w.args); err != nil {
		return fmt.Errorf("redisstore: create %s: %w", inc.ID, err)
	}
	inc.Version = 1
	return nil
}

// Update implements incidents.Store.
func (s *Store) Update(ctx context.Context, inc *incidents.Incident, events []incidents.Event) ([]incidents.Event, error) {
	if inc == nil {
		return nil, fmt.Errorf("redisstore: update: no incident: %w", incidents.ErrInvalid)
	}
	if err := inc.Validate(); err != nil {
		return nil, fmt.Errorf("redisstore: update: %w", err)
	}
	w, err := s.prepareWrite(inc, inc.Version+1, events)
	if err != nil {
		return nil, fmt.Errorf("redisstore: update %s: %w", inc.ID, err)
	}
	// The versions go between the fixed arguments and the events.
	args := slices.Insert(w.args, 5, any(strconv.FormatInt(inc.Version, 10)), any(strconv.FormatInt(inc.Version+1, 10)))
	result, err := s.runWrite(ctx, updateScript, w.keys, args)
	if err != nil {
		return nil, fmt.Errorf("redisstore: update %s: %w", inc.ID, err)
	}
	stored, err := storedEvents(w.events, result)
	if err != nil {
		return nil, fmt.Errorf("redisstore: update %s: %w", inc.ID, err)
	}
	inc.Version++
	return stored, nil
}

// Append implements incidents.Store.
func (s *Store) Append(ctx context.Context, id string, events []incidents.Event) ([]incidents.Event, error) {
	evs, pairs, err := encodeEvents(id, events)
	if err != nil {
		return nil, fmt.Errorf("redisstore: append %s: %w", id, err)
	}
	keys := []string{s.incKey(id), s.timelineKey(id), s.eventKeysKey(id), s.opKey()}
	args := append([]any{replayTTL.Milliseconds()}, pairs...)
	result, err := s.runWrite(ctx, appendScript, keys, args)
	if err != nil {
		return nil, fmt.Errorf("redisstore: append %s: %w", id, err)
	}
	stored, err := storedEvents(evs, result)
	if err != nil {
		return nil, fmt.Errorf("redisstore: append %s: %w", id, err)
	}
	return stored, nil
}

// Get implements incidents.Store.
func (s *Store) Get(ctx context.Context, id string) (*incidents.Incident, error) {
	j, err := s.client.HGet(ctx, s.incKey(id), "j").Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: get %s: %w", id, incidents.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: get %s: %w", id, err)
	}
	inc, err := decodeIncident(j)
	if err != nil {
		return nil, fmt.Errorf("redisstore: get %s: %w", id, err)
	}
	return inc, nil
}

// HasEvent implements incidents.Store. It reports false for an unknown
// incident.
func (s *Store) HasEvent(ctx context.Context, id, key string) (bool, error) {
	ok, err := s.client.HExists(ctx, s.eventKeysKey(id), key).Result()
	if err != nil {
		return false, fmt.Errorf("redisstore: has event %s %s: %w", id, key, err)
	}
	return ok, nil
}

// Events implements incidents.Store.
func (s *Store) Events(ctx context.Context, id string, after int64, limit int) ([]incidents.Event, error) {
	if after >= math.MaxInt64-1 {
		after = math.MaxInt64 - 1 // no event has such a seq; the page is empty
	}
	start := "0-" + strconv.FormatInt(max(after, 0)+1, 10)
	var exists *redis.IntCmd
	var rng *redis.XMessageSliceCmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.incKey(id))
		if limit > 0 {
			rng = p.XRangeN(ctx, s.timelineKey(id), start, "+", int64(limit))
		} else {
			rng = p.XRange(ctx, s.timelineKey(id), start, "+")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: events %s: %w", id, err)
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("redisstore: events %s: %w", id, incidents.ErrNotFound)
	}
	out := make([]incidents.Event, 0, len(rng.Val()))
	for _, m := range rng.Val() {
		e, err := decodeEvent(m)
		if err != nil {
			return nil, fmt.Errorf("redisstore: events %s: %w", id, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// List implements incidents.Store. It reads the index newest first, page
// by page, and keeps the incidents that f.Match selects. The index is
// scored in milliseconds, so incidents created within one millisecond are
// put in order by their CreatedAt once read.
func (s *Store) List(ctx context.Context, f incidents.Filter) ([]*incidents.Incident, error) {
	rng := &redis.ZRangeBy{Min: "-inf", Max: "+inf", Count: listPage}
	if !f.From.IsZero() {
		rng.Min = strconv.FormatInt(floorMilli(f.From), 10)
	}
	if !f.To.IsZero() {
		rng.Max = strconv.FormatInt(floorMilli(f.To), 10)
	}
	var (
		out  []*incidents.Incident
		seen = map[string]bool{} // a page can repeat IDs when incidents are created meanwhile
		// edge is the score of the f.Limit-th match, once there is one:
		// below it, no incident can be among the first f.Limit.
		edge = math.Inf(-1)
	)
	for {
		page, err := s.client.ZRevRangeByScoreWithScores(ctx, s.indexKey(), rng).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstore: list: %w", err)
		}
		if len(page) > 0 && page[0].Score < edge {
			break
		}
		cmds, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, z := range page {
				p.HGet(ctx, s.incKey(z.Member.(string)), "j")
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("redisstore: list: %w", err)
		}
		for i, z := range page {
			if z.Score < edge {
				break
			}
			id := z.Member.(string)
			j, err := cmds[i].(*redis.StringCmd).Result()
			if errors.Is(err, redis.Nil) || seen[id] {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("redisstore: list: %s: %w", id, err)
			}
			seen[id] = true
			inc, err := decodeIncident(j)
			if err != nil {
				return nil, fmt.Errorf("redisstore: list: %s: %w", id, err)
			}
			if !f.Match(inc) {
				continue
			}
			out = append(out, inc)
			if f.Limit > 0 && len(out) == f.Limit {
				edge = z.Score
			}
		}
		if len(page) < listPage {
			break
		}
		rng.Offset += listPage
	}
	slices.SortStableFunc(out, func(a, b *incidents.Incident) int {
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// FindByRef implements incidents.Store.
func (s *Store) FindByRef(ctx context.Context, kind, value string) (*incidents.Incident, error) {
	id, err := s.client.Get(ctx, s.refKey(kind, value)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: find by ref %s=%s: %w", kind, value, incidents.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: find by ref %s=%s: %w", kind, value, err)
	}
	inc, err := s.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("redisstore: find by ref %s=%s: %w", kind, value, err)
	}
	return inc, nil
}

// Claim implements incidents.Store with SET NX PX: the first caller sets
// the key, and it expires after ttl (rounded up to a millisecond).
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("redisstore: claim: an empty key: %w", incidents.ErrInvalid)
	}
	if ttl <= 0 {
		return false, fmt.Errorf("redisstore: claim %s: ttl %v is not positive: %w", key, ttl, incidents.ErrInvalid)
	}
	if r := ttl % time.Millisecond; r != 0 {
		ttl += time.Millisecond - r
	}
	ok, err := s.client.SetNX(ctx, s.prefix+"claim:"+key, "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redisstore: claim %s: %w", key, err)
	}
	return ok, nil
}

// Close implements incidents.Store. It leaves the client open: it is the
// caller's.
func (s *Store) Close() error { return nil }

// write is what Create and Update send to their script.
type write struct {
	keys   []string
	args   []any
	events []incidents.Event // as they are stored, without Seq
}

// prepareWrite encodes inc at version and events as the keys and
// arguments shared by createScript and updateScript.
func (s *Store) prepareWrite(inc *incidents.Incident, version int64, events []incidents.Event) (write, error) {
	c := inc.Clone()
	c.Version = version
	j, err := encodeIncident(c)
	if err != nil {
		return write{}, err
	}
	evs, pairs, err := encodeEvents(inc.ID, events)
	if err != nil {
		return write{}, err
	}
	refKeys := []string{}
	for _, kind := range sortedKeys(inc.Refs) {
		refKeys = append(refKeys, s.refKey(kind, inc.Refs[kind]))
	}
	refsJSON, err := json.Marshal(refKeys)
	if err != nil {
		return write{}, err
	}
	keys := append([]string{
		s.incKey(inc.ID), s.timelineKey(inc.ID), s.eventKeysKey(inc.ID), s.indexKey(), s.opKey(),
	}, refKeys...)
	args := append([]any{
		inc.ID, j, floorMilli(inc.CreatedAt), string(refsJSON), replayTTL.Milliseconds(),
	}, pairs...)
	return write{keys: keys, args: args, events: evs}, nil
}

// runWrite runs a write script and maps its error replies to the domain's
// sentinels.
func (s *Store) runWrite(ctx context.Context, script *redis.Script, keys []string, args []any) (string, error) {
	result, err := script.Run(ctx, s.client, keys, args...).Text()
	switch {
	case err == nil:
		return result, nil
	case redis.HasErrorPrefix(err, codeConflict):
		return "", fmt.Errorf("%s: %w", strings.TrimSpace(strings.TrimPrefix(err.Error(), codeConflict)), incidents.ErrConflict)
	case redis.HasErrorPrefix(err, codeNotFound):
		return "", incidents.ErrNotFound
	}
	return "", err
}

// storedEvents returns the events that a script's result says it stored,
// with their Seq.
func storedEvents(evs []incidents.Event, result string) ([]incidents.Event, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	seqs := strings.Split(result, ",")
	if len(seqs) != len(evs) {
		return nil, fmt.Errorf("the script returned %d seqs for %d events", len(seqs), len(evs))
	}
	var out []incidents.Event
	for i, str := range seqs {
		seq, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("the script returned seq %q: %w", str, err)
		}
		if seq == 0 {
			continue
		}
		e := evs[i]
		e.Seq = seq
		out = append(out, e)
	}
	return out, nil
}

// encodeIncident returns inc as stored: JSON, with every time in UTC.
func encodeIncident(inc *incidents.Incident) (string, error) {
	inc.CreatedAt = inc.CreatedAt.UTC()
	inc.AcknowledgedAt = inc.AcknowledgedAt.UTC()
	inc.MitigatedAt = inc.MitigatedAt.UTC()
	inc.ResolvedAt = inc.ResolvedAt.UTC()
	inc.UpdatedAt = inc.UpdatedAt.UTC()
	for i := range inc.Steps {
		inc.Steps[i].At = inc.Steps[i].At.UTC()
	}
	b, err := json.Marshal(inc)
	return string(b), err
}

func decodeIncident(j string) (*incidents.Incident, error) {
	var inc incidents.Incident
	if err := json.Unmarshal([]byte(j), &inc); err != nil {
		return nil, fmt.Errorf("decoding the stored incident: %w", err)
	}
	return &inc, nil
}

// encodeEvents validates events and returns them as stored (with the
// incident's ID, times in UTC, Seq left to the script) and as the key,
// JSON pairs that the scripts take.
func encodeEvents(id string, events []incidents.Event) ([]incidents.Event, []any, error) {
	evs := make([]incidents.Event, len(events))
	pairs := make([]any, 0, 2*len(events))
	for i, e := range events {
		if err := e.Validate(); err != nil {
			return nil, nil, err
		}
		e.IncidentID = id
		e.Seq = 0
		e.At = e.At.UTC()
		e.RecordedAt = e.RecordedAt.UTC()
		e.Data = cloneMap(e.Data)
		b, err := json.Marshal(e)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding event %s: %w", e.Key, err)
		}
		evs[i] = e
		pairs = append(pairs, e.Key, string(b))
	}
	return evs, pairs, nil
}

// decodeEvent reads a timeline entry; its Seq is its stream ID's sequence
// number.
func decodeEvent(m redis.XMessage) (incidents.Event, error) {
	var e incidents.Event
	_, seqStr, ok := strings.Cut(m.ID, "-")
	seq, err := strconv.ParseInt(seqStr, 10, 64)
	if !ok || err != nil {
		return e, fmt.Errorf("timeline entry %s: not a 0-seq ID", m.ID)
	}
	j, _ := m.Values["e"].(string)
	if err := json.Unmarshal([]byte(j), &e); err != nil {
		return e, fmt.Errorf("timeline entry %s: %w", m.ID, err)
	}
	e.Seq = seq
	return e, nil
}

func (s *Store) incKey(id string) string       { return s.prefix + "inc:" + id }
func (s *Store) timelineKey(id string) string  { return s.prefix + "tl:" + id }
func (s *Store) eventKeysKey(id string) string { return s.prefix + "tlkeys:" + id }
func (s *Store) indexKey() string              { return s.prefix + "idx:created" }

// refKey percent-encodes ':' and '%' in kind, so that "a:b"="c" and
// "a"="b:c" get different keys.
func (s *Store) refKey(kind, value string) string {
	kind = strings.NewReplacer("%", "%25", ":", "%3A").Replace(kind)
	return s.prefix + "ref:" + kind + ":" + value
}

// opKey returns a new key under which a write script records its result.
func (s *Store) opKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return s.prefix + "op:" + hex.EncodeToString(b[:])
}

// floorMilli returns t in unix milliseconds, rounded down, so that the
// index's score of an incident is never above its CreatedAt.
func floorMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).After(t) {
		ms--
	}
	return ms
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
