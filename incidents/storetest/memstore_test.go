package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// memStore is the simplest store that passes the suite: it proves the
// suite asks for nothing a store cannot do, and shows what each rule
// means in a few lines. It is not durable, so it is not for use.
type memStore struct {
	mu       sync.Mutex
	inc      map[string]*incidents.Incident
	timeline map[string][]incidents.Event
	keys     map[string]map[string]bool
	refs     map[string]string
	claims   map[string]time.Time
}

var _ incidents.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{
		inc:      map[string]*incidents.Incident{},
		timeline: map[string][]incidents.Event{},
		keys:     map[string]map[string]bool{},
		refs:     map[string]string{},
		claims:   map[string]time.Time{},
	}
}

func refKey(kind, value string) string { return kind + "\x00" + value }

func (s *memStore) Create(ctx context.Context, inc *incidents.Incident, evs []incidents.Event) error {
	if err := inc.Validate(); err != nil {
		return fmt.Errorf("mem: create: %w", err)
	}
	if inc.Version != 0 {
		return fmt.Errorf("mem: create %s: version %d: %w", inc.ID, inc.Version, incidents.ErrInvalid)
	}
	if err := validateEvents(evs); err != nil {
		return fmt.Errorf("mem: create %s: %w", inc.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inc[inc.ID] != nil {
		return fmt.Errorf("mem: create %s: %w", inc.ID, incidents.ErrConflict)
	}
	for k, v := range inc.Refs {
		if _, ok := s.refs[refKey(k, v)]; ok {
			return fmt.Errorf("mem: create %s: ref %s=%s: %w", inc.ID, k, v, incidents.ErrConflict)
		}
	}
	for k, v := range inc.Refs {
		s.refs[refKey(k, v)] = inc.ID
	}
	c := utc(inc)
	c.Version = 1
	s.inc[inc.ID] = c
	s.keys[inc.ID] = map[string]bool{}
	s.appendLocked(inc.ID, evs)
	inc.Version = 1
	return nil
}

func (s *memStore) Get(ctx context.Context, id string) (*incidents.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inc := s.inc[id]
	if inc == nil {
		return nil, fmt.Errorf("mem: get %s: %w", id, incidents.ErrNotFound)
	}
	return inc.Clone(), nil
}

func (s *memStore) Update(ctx context.Context, inc *incidents.Incident, evs []incidents.Event) ([]incidents.Event, error) {
	if err := inc.Validate(); err != nil {
		return nil, fmt.Errorf("mem: update: %w", err)
	}
	if err := validateEvents(evs); err != nil {
		return nil, fmt.Errorf("mem: update %s: %w", inc.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.inc[inc.ID]
	if old == nil {
		return nil, fmt.Errorf("mem: update %s: %w", inc.ID, incidents.ErrNotFound)
	}
	if old.Version != inc.Version {
		return nil, fmt.Errorf("mem: update %s: %w", inc.ID, incidents.ErrConflict)
	}
	for k, v := range inc.Refs {
		if holder, ok := s.refs[refKey(k, v)]; ok && holder != inc.ID {
			return nil, fmt.Errorf("mem: update %s: ref %s=%s: %w", inc.ID, k, v, incidents.ErrConflict)
		}
	}
	for k, v := range old.Refs {
		delete(s.refs, refKey(k, v))
	}
	for k, v := range inc.Refs {
		s.refs[refKey(k, v)] = inc.ID
	}
	c := utc(inc)
	c.Version = inc.Version + 1
	s.inc[inc.ID] = c
	inc.Version = c.Version
	return s.appendLocked(inc.ID, evs), nil
}

func (s *memStore) Append(ctx context.Context, id string, evs []incidents.Event) ([]incidents.Event, error) {
	if err := validateEvents(evs); err != nil {
		return nil, fmt.Errorf("mem: append %s: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inc[id] == nil {
		return nil, fmt.Errorf("mem: append %s: %w", id, incidents.ErrNotFound)
	}
	return s.appendLocked(id, evs), nil
}

func (s *memStore) appendLocked(id string, evs []incidents.Event) []incidents.Event {
	var out []incidents.Event
	for _, e := range evs {
		if s.keys[id][e.Key] {
			continue
		}
		e.IncidentID, e.Seq = id, int64(len(s.timeline[id])+1)
		e.At, e.RecordedAt, e.Data = e.At.UTC(), e.RecordedAt.UTC(), maps.Clone(e.Data)
		s.timeline[id] = append(s.timeline[id], e)
		s.keys[id][e.Key] = true
		e.Data = maps.Clone(e.Data)
		out = append(out, e)
	}
	return out
}

func (s *memStore) HasEvent(ctx context.Context, id, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inc[id] == nil {
		return false, fmt.Errorf("mem: has event %s: %w", id, incidents.ErrNotFound)
	}
	return s.keys[id][key], nil
}

func (s *memStore) Events(ctx context.Context, id string, after int64, limit int) ([]incidents.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inc[id] == nil {
		return nil, fmt.Errorf("mem: events %s: %w", id, incidents.ErrNotFound)
	}
	tl := s.timeline[id]
	after = min(max(after, 0), int64(len(tl)))
	page := tl[after:]
	if limit > 0 && limit < len(page) {
		page = page[:limit]
	}
	out := make([]incidents.Event, len(page))
	for i, e := range page {
		e.Data = maps.Clone(e.Data)
		out[i] = e
	}
	return out, nil
}

func (s *memStore) List(ctx context.Context, f incidents.Filter) ([]*incidents.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*incidents.Incident
	for _, inc := range s.inc {
		if f.Match(inc) {
			out = append(out, inc.Clone())
		}
	}
	slices.SortFunc(out, func(a, b *incidents.Incident) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (s *memStore) FindByRef(ctx context.Context, kind, value string) (*incidents.Incident, error) {
	s.mu.Lock()
	id, ok := s.refs[refKey(kind, value)]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("mem: find ref %s=%s: %w", kind, value, incidents.ErrNotFound)
	}
	return s.Get(ctx, id)
}

func (s *memStore) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if key == "" || ttl <= 0 {
		return false, fmt.Errorf("memstore: claim %q for %v: %w", key, ttl, incidents.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if until, ok := s.claims[key]; ok && now.Before(until) {
		return false, nil
	}
	s.claims[key] = now.Add(ttl)
	return true, nil
}

func (s *memStore) Close() error { return nil }

func validateEvents(evs []incidents.Event) error {
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			return err
		}
	}
	return nil
}

func utc(inc *incidents.Incident) *incidents.Incident { return utcIncident(inc) }
