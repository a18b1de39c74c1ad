package inbox

import (
	"context"
	"errors"
	"fmt"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"time"
)

// ErrFull: the inbox holds as many deliveries as it may, and a new one
// must wait (an Alertmanager webhook is then answered 503, so that it is
// sent again).
var ErrFull = errors.New("inbox full")

// Delivery is one inbound message (a webhook body) kept as it arrived, so
// that it survives a crash between its acknowledgement and its
// processing.
type Delivery struct {
	// ID identifies the delivery for deduplication: the source's own event
	// or delivery ID when there is one ("pagerduty:EVENTID"), else a hash
	// of the body. A second Put with the same ID within the retention
	// stores nothing.
	ID string `json:"id"`
	// Source is the sender: "pagerduty", "alertmanager", "slack".
	Source string `json:"source"`
	// Body is the raw payload, as received.
	Body []byte `json:"body"`
	// Meta holds a few headers or facts worth keeping with the body (a
	// webhook ID, a received signature's subscription), never a secret.
	Meta map[string]string `json:"meta,omitempty"`
	// ReceivedAt is when the delivery came in.
	ReceivedAt time.Time `json:"received_at"`
	// Attempts counts the times the delivery was taken before, including
	// this one (1 on the first Take).
	Attempts int `json:"attempts"`
}

// MaxDeliveryIDLen is the longest Delivery.ID that Validate accepts, in
// bytes.
const MaxDeliveryIDLen = 1024

// Validate reports, as ErrInvalid, a delivery that an Inbox must refuse:
// one without ID, Source or Body, or whose ID is longer than
// MaxDeliveryIDLen.
func (d Delivery) Validate() error {
	switch {
	case d.ID == "":
		return fmt.Errorf("a delivery needs an ID: %w", incidents.ErrInvalid)
	case len(d.ID) > MaxDeliveryIDLen:
		return fmt.Errorf("delivery ID %.40q... is longer than %d bytes: %w", d.ID, MaxDeliveryIDLen, incidents.ErrInvalid)
	case d.Source == "":
		return fmt.Errorf("delivery %s needs a source: %w", d.ID, incidents.ErrInvalid)
	case len(d.Body) == 0:
		return fmt.Errorf("delivery %s has an empty body: %w", d.ID, incidents.ErrInvalid)
	}
	return nil
}

// Inbox keeps deliveries until they are processed. Put returns only once
// the delivery is durable (on disk, or in Redis with its fsync policy),
// which is what lets a webhook be answered 2xx. Several consumers (in one
// process or several replicas) may Take at once: each pending delivery is
// leased to one of them, and a delivery whose lease runs out (its consumer
// died) is handed out again. Deliveries are handed out in the order they
// were put, as far as leases allow.
type Inbox interface {
	// Put stores d unless a delivery with the same ID was put within the
	// retention (processed or not); it reports whether d was stored. It
	// returns ErrInvalid for a delivery that d.Validate refuses, and
	// ErrFull when the inbox already holds its maximum of pending
	// deliveries (a duplicate is reported as not stored even then).
	// d.Attempts is ignored; ReceivedAt comes back in UTC.
	Put(ctx context.Context, d Delivery) (stored bool, err error)

	// Take leases up to n pending deliveries (never taken, or whose lease
	// expired) to consumer for lease, oldest first, and returns them with
	// Attempts counted. It returns an empty slice, not an error, when
	// there is nothing to take or n is below 1, and ErrInvalid for an
	// empty consumer or a lease that is not positive. A lease may be
	// rounded up to the store's resolution (a millisecond for Redis).
	Take(ctx context.Context, consumer string, n int, lease time.Duration) ([]Delivery, error)

	// Done removes a processed delivery; its ID stays known for
	// deduplication until the retention passes. Done of an unknown or
	// already removed delivery is not an error.
	Done(ctx context.Context, id string) error

	// Pending counts the deliveries not yet done, leased or not.
	Pending(ctx context.Context) (int, error)
}
