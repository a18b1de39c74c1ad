package replica

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Leaser keeps named leases, each held by one holder at a time until it
// expires: the way several replicas sharing one store elect the one that
// does what must happen once (sync the runbooks, send reminders). A store
// shared by replicas (Redis) implements it across processes; the embedded
// store, which one process holds, implements it with the same rules.
type Leaser interface {
	// Lead takes the lease called name for holder when it is free or has
	// expired, renews it for ttl when holder holds it already, and
	// reports whether holder holds it now. A holder whose lease expired
	// and was taken by another learns so here: Lead returns false. An
	// empty name or holder, or a ttl that is not positive, is ErrInvalid.
	Lead(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)

	// Resign gives the lease up at once when holder holds it, so that
	// another holder's next Lead takes it; otherwise it changes nothing.
	// An empty name or holder is ErrInvalid.
	Resign(ctx context.Context, name, holder string) error
}

// LeaderLease is the name of the lease that elects the replica doing the
// work that must happen once.
const LeaderLease = "leader"

// DefaultLeaseTTL is ElectorOptions.TTL's default: a replica that dies
// while leading is replaced within this long.
const DefaultLeaseTTL = 15 * time.Second

// ElectorOptions configure an Elector. The zero value is usable.
type ElectorOptions struct {
	// Name is the lease's name; empty means LeaderLease.
	Name string
	// Holder identifies this replica; empty means its host name, process
	// ID and random characters, which no other process shares.
	Holder string
	// TTL is how long the lease lasts without renewal; the elector
	// renews it every TTL/3. 0 means DefaultLeaseTTL.
	TTL time.Duration
	// OnElected, when set, runs in a goroutine of its own each time this
	// replica becomes the leader. Its ctx ends when the replica stops
	// leading (another took the lease, or the lease could not be renewed
	// before it expired) or the elector stops; the elector waits for it
	// to return before it calls OnDemoted or stops.
	OnElected func(ctx context.Context)
	// OnDemoted, when set, is called after the work OnElected started
	// has returned, each time this replica stops leading, the elector's
	// own stop included.
	OnDemoted func()
	// Logger receives the elections and the errors of Lead; nil discards
	// them.
	Logger *slog.Logger
	// Now is the clock that says when a lease held runs out; nil means
	// time.Now. The tries keep the real pace (every TTL/3).
	Now func() time.Time
}

// Elector keeps trying to lead a lease and tells whether this replica
// leads. Leading is a hint kept current every TTL/3, not a lock: during a
// handover two replicas may both believe they lead for a moment, so work
// that must happen exactly once also claims it (Store.Claim).
type Elector struct {
	leaser    Leaser
	name      string
	holder    string
	ttl       time.Duration
	onElected func(context.Context)
	onDemoted func()
	log       *slog.Logger
	now       func() time.Time

	leading atomic.Bool
}

// NewElector returns an Elector over leaser; Run starts it.
func NewElector(leaser Leaser, opts ElectorOptions) *Elector {
	e := &Elector{leaser: leaser, name: opts.Name, holder: opts.Holder, ttl: opts.TTL,
		onElected: opts.OnElected, onDemoted: opts.OnDemoted, log: opts.Logger, now: opts.Now}
	if e.now == nil {
		e.now = time.Now
	}
	if e.name == "" {
		e.name = LeaderLease
	}
	if e.holder == "" {
		e.holder = NewHolderID()
	}
	if e.ttl <= 0 {
		e.ttl = DefaultLeaseTTL
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("lease", e.name, "holder", e.holder)
	return e
}

// NewHolderID returns an identity for a lease holder made of the host's
// name, the process's ID and random characters.
func NewHolderID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), holderEncoding.EncodeToString(b))
}

// holderEncoding writes a holder's random characters in the alphabet of
// incident IDs: no I, L, O or U to misread.
var holderEncoding = base32.NewEncoding("ABCDEFGHJKMNPQRSTVWXYZ0123456789").WithPadding(base32.NoPadding)

// Holder returns the identity under which this elector leads.
func (e *Elector) Holder() string { return e.holder }

// Leading reports whether this replica leads: it held the lease at its
// last successful try, and the lease does not run out before the next.
func (e *Elector) Leading() bool { return e.leading.Load() }

// Run tries to lead at once and then every TTL/3 until ctx ends. When it
// ends, Run stops the work OnElected started, waits for it, gives the
// lease up so that another replica leads at once, and returns nil.
func (e *Elector) Run(ctx context.Context) error {
	every := max(e.ttl/3, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	var (
		validUntil time.Time // when the lease held runs out, at the latest
		stopWork   context.CancelFunc
		work       sync.WaitGroup
	)
	demote := func(why string) {
		e.leading.Store(false)
		stopWork()
		work.Wait()
		stopWork = nil
		e.log.Info("this replica no longer leads", "why", why)
		if e.onDemoted != nil {
			e.onDemoted()
		}
	}
loop:
	for {
		start := e.now()
		// A try that hangs past the next one counts as failed.
		tryCtx, cancelTry := context.WithTimeout(ctx, every)
		held, err := e.leaser.Lead(tryCtx, e.name, e.holder, e.ttl)
		cancelTry()
		switch {
		case ctx.Err() != nil:
		case err != nil:
			// The lease may still be held: it runs out at the latest one
			// ttl after the last successful try began. The work stops
			// at the last try before then, so that it is over before
			// another replica can take the lease.
			e.log.Warn("lease: try to lead", "err", err)
			if stopWork != nil && !e.now().Add(every).Before(validUntil) {
				demote("the lease could not be renewed before it runs out")
			}
		case held:
			validUntil = start.Add(e.ttl)
			if stopWork == nil {
				var workCtx context.Context
				workCtx, stopWork = context.WithCancel(ctx)
				e.leading.Store(true)
				e.log.Info("this replica leads")
				if e.onElected != nil {
					work.Add(1)
					go func() {
						defer work.Done()
						e.onElected(workCtx)
					}()
				}
			}
		case stopWork != nil:
			demote("another replica took the lease")
		}
		select {
		case <-ctx.Done():
			break loop
		case <-t.C:
		}
	}
	if stopWork != nil {
		demote("stopping")
	}
	// ctx has ended: the lease is given up under a context of its own.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := e.leaser.Resign(rctx, e.name, e.holder); err != nil && !errors.Is(err, context.Canceled) {
		e.log.Warn("lease: resign; another replica leads once it runs out", "err", err)
	}
	return nil
}
