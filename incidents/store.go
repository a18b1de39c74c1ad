package incidents

import (
	"context"
	"time"
)

// Store keeps incidents and their timelines. Every method is safe for
// concurrent use, by several goroutines and, for a shared store such as
// Redis, by several processes. A write that returned nil is durable (for
// Redis: with appendfsync always). Times are kept to the microsecond at
// least and returned in UTC. A store keeps its own copies of what it is
// given and returns. A call that fails changes nothing, inc.Version
// included.
type Store interface {
	// Create stores a new incident, whose Version must be 0, with the
	// first events of its timeline. The stored incident has Version 1,
	// and inc.Version is set to it. Each of inc.Refs may belong to one
	// incident only. It returns ErrConflict when the ID or one of the
	// references is taken, ErrInvalid when inc or an event is invalid
	// (a Version other than 0 included). The store sets each event's
	// IncidentID and Seq and keeps its other fields; events with the same
	// Key in one call are stored once.
	Create(ctx context.Context, inc *Incident, events []Event) error

	// Get returns the incident with that ID, or ErrNotFound.
	Get(ctx context.Context, id string) (*Incident, error)

	// Update stores inc in place of the stored incident, provided the
	// stored version is inc.Version, and appends events to its timeline,
	// all at once. The stored version becomes inc.Version+1, and
	// inc.Version is set to it. Events whose Key is already in the
	// timeline are left out; Update returns the events it stored, with
	// their Seq. inc.Refs become the incident's references. It returns
	// ErrConflict when the stored version differs or a new reference
	// belongs to another incident (nothing is stored then), ErrNotFound,
	// or ErrInvalid.
	Update(ctx context.Context, inc *Incident, events []Event) ([]Event, error)

	// Append adds events to an incident's timeline without changing the
	// incident, leaving out those whose Key is already there, and returns
	// the events it stored. It returns ErrNotFound or ErrInvalid.
	Append(ctx context.Context, id string, events []Event) ([]Event, error)

	// HasEvent reports whether the incident's timeline holds an event with
	// that key. For an unknown incident it returns false or ErrNotFound.
	HasEvent(ctx context.Context, id, key string) (bool, error)

	// Events returns the events of an incident's timeline with Seq greater
	// than after, in order, at most limit of them (0 means all). It
	// returns ErrNotFound for an unknown incident.
	Events(ctx context.Context, id string, after int64, limit int) ([]Event, error)

	// List returns the incidents that the filter selects, the most
	// recently created first (by ID, descending, when times tie).
	List(ctx context.Context, f Filter) ([]*Incident, error)

	// FindByRef returns the incident holding the reference kind=value,
	// or ErrNotFound.
	FindByRef(ctx context.Context, kind, value string) (*Incident, error)

	// Claim records key for ttl and reports whether this call was the
	// first to do so: the idempotency of deliveries that have no incident
	// yet (a webhook's event ID, a Slack retry). An empty key or a ttl
	// that is not positive is ErrInvalid.
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)

	// Close releases the store.
	Close() error
}

// Filter selects incidents. Zero fields select everything.
type Filter struct {
	// Statuses keeps incidents in one of these statuses.
	Statuses []Status
	// Open keeps incidents that are not resolved.
	Open bool
	// Service keeps incidents of this service.
	Service string
	// From and To keep incidents created at or after From and before To.
	From, To time.Time
	// Limit caps the number returned; 0 means no cap.
	Limit int
}

// Match reports whether the filter selects inc; stores may use it.
func (f Filter) Match(inc *Incident) bool {
	if len(f.Statuses) > 0 {
		ok := false
		for _, s := range f.Statuses {
			ok = ok || inc.Status == s
		}
		if !ok {
			return false
		}
	}
	if f.Open && !inc.Status.Open() {
		return false
	}
	if f.Service != "" && inc.Service != f.Service {
		return false
	}
	if !f.From.IsZero() && inc.CreatedAt.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !inc.CreatedAt.Before(f.To) {
		return false
	}
	return true
}
