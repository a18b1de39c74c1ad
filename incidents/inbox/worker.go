package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The defaults of WorkerOptions.
const (
	DefaultWorkerBatch       = 32
	DefaultWorkerLease       = time.Minute
	DefaultWorkerPoll        = time.Second
	DefaultWorkerMaxAttempts = 20
	DefaultWorkerConcurrency = 4
)

// OrderKey is the Delivery.Meta key whose value puts deliveries in one
// line: a Worker processes deliveries with the same order key one after
// another, in the order they were put. Webhook handlers set it to the
// incident's identity at the source (an Alertmanager group key, a
// PagerDuty incident ID).
const OrderKey = "order_key"

// WorkerOptions configure a Worker. The zero value is ready to use.
type WorkerOptions struct {
	// Consumer names the worker to the inbox; every worker sharing an
	// inbox should have its own. Empty means the host name, the process
	// ID and random hex.
	Consumer string
	// Batch is the most deliveries the worker holds at once, taken and
	// not yet finished; 0 means DefaultWorkerBatch (32).
	Batch int
	// Lease is how long a taken delivery stays the worker's. A handler's
	// context ends with the lease, and a delivery whose handler failed
	// comes back when its lease runs out: the lease is also the delay
	// before a retry. It should be well above the time a batch takes to
	// process. 0 means DefaultWorkerLease (1 minute).
	Lease time.Duration
	// Poll is how often the worker looks for deliveries when nothing
	// wakes it (Kick); 0 means DefaultWorkerPoll (1 second).
	Poll time.Duration
	// MaxAttempts is how many times a delivery is tried before it is
	// dropped with an error log; 0 means DefaultWorkerMaxAttempts (20).
	MaxAttempts int
	// Concurrency is how many handlers run at once; 0 means
	// DefaultWorkerConcurrency (4).
	Concurrency int
	// Logger receives a line for each delivery dropped (at error level)
	// or left for a retry (at warn level); nil discards them.
	Logger *slog.Logger
	// TracerProvider makes the "process delivery" span around each
	// handler call, a child of the webhook request's span that the
	// delivery carries (Meta[TraceParentKey]); nil means the global
	// provider, a no-op unless the process set one.
	TracerProvider trace.TracerProvider
	// Now is the clock that says when a lease or a block runs out; nil
	// means time.Now. Polls and backoffs keep the real pace.
	Now func() time.Time
}

// WorkerStats counts what a Worker did with the deliveries it took.
type WorkerStats struct {
	// Processed counts the deliveries handled and marked done.
	Processed uint64
	// Failed counts the attempts that failed with a retryable error or a
	// panic, the last attempt before a drop included.
	Failed uint64
	// Dropped counts the deliveries given up: a permanent error, an
	// unknown source, or too many attempts.
	Dropped uint64
}

// HandlerFunc lets an ordinary function be a Handler.
type HandlerFunc func(ctx context.Context, d Delivery) error

// HandleDelivery calls f(ctx, d).
func (f HandlerFunc) HandleDelivery(ctx context.Context, d Delivery) error { return f(ctx, d) }

// errWorkerRunning is Run's error when the worker already runs.
var errWorkerRunning = errors.New("incidents: the inbox worker is already running")

// Worker takes deliveries from an Inbox and hands each to the handler of
// its source, up to Concurrency at a time. Deliveries with the same
// order key (Meta[OrderKey]) are processed one after another, in the
// order they were put; after a retryable failure, the later deliveries
// of that key wait for the failed one's retry (for one lease at most),
// so they are not processed ahead of it. That order holds within one
// worker; across replicas it holds as far as leases allow.
//
// A handler returning nil marks its delivery done. A permanent error (fault.Permanent), an
// unknown source, a failure on the last of MaxAttempts attempts, or a
// delivery taken more than MaxAttempts times without finishing (its
// handler may bring the process down) drops the delivery (it is marked
// done) with an error log naming its ID and source, never its body. Any other error, or a panic, leaves the
// delivery in the inbox: it comes back when its lease runs out.
// Handlers must be idempotent: a delivery may be processed again when a
// worker dies before marking it done, or when its lease runs out before
// its handler returns.
type Worker struct {
	inbox    Inbox
	handlers map[string]Handler
	opts     WorkerOptions
	log      *slog.Logger
	tracer   trace.Tracer
	kick     chan struct{}
	freed    chan struct{}
	running  atomic.Bool

	processed, failed, dropped atomic.Uint64

	mu       sync.Mutex
	inflight map[string]bool  // IDs taken and not finished
	lanes    map[string]*lane // order key → the deliveries waiting for it
	blocked  map[string]block // order key → a delivery left unfinished, that the later ones wait for
}

// lane holds the deliveries of one order key waiting for their turn.
type lane struct{ queue []taken }

// block holds back the deliveries of one order key behind the delivery
// id, left unfinished, until it is settled or until passes.
type block struct {
	id    string
	until time.Time
}

// taken is a delivery and the end of its lease.
type taken struct {
	d        Delivery
	deadline time.Time
}

// NewWorker returns a Worker that takes deliveries from inbox and gives
// each to handlers[d.Source].
func NewWorker(inbox Inbox, handlers map[string]Handler, opts WorkerOptions) *Worker {
	if opts.Consumer == "" {
		opts.Consumer = replica.NewHolderID()
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultWorkerBatch
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultWorkerLease
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultWorkerPoll
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultWorkerMaxAttempts
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultWorkerConcurrency
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{
		inbox:    inbox,
		handlers: maps.Clone(handlers),
		opts:     opts,
		log:      log.With("consumer", opts.Consumer),
		tracer:   tracerOf(opts.TracerProvider),
		kick:     make(chan struct{}, 1),
		freed:    make(chan struct{}, 1),
		inflight: map[string]bool{},
		lanes:    map[string]*lane{},
		blocked:  map[string]block{},
	}
}

// Kick wakes the worker to take deliveries at once rather than at its
// next poll: call it after a Put. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Stats returns what the worker has done so far.
func (w *Worker) Stats() WorkerStats {
	return WorkerStats{Processed: w.processed.Load(), Failed: w.failed.Load(), Dropped: w.dropped.Load()}
}

// Run takes and processes deliveries until ctx is cancelled. It then
// takes no more, lets the handlers that run finish (their contexts are
// not cancelled with ctx, only at their lease's end) and returns nil.
// Deliveries taken but not started are left to their lease. A failing
// Take is logged and tried again at the next poll. Run returns an error
// only when the worker already runs.
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errWorkerRunning
	}
	defer w.running.Store(false)

	work := context.WithoutCancel(ctx)
	slots := make(chan struct{}, w.opts.Concurrency)
	var wg sync.WaitGroup
	poll := time.NewTimer(w.opts.Poll)
	defer poll.Stop()
	for ctx.Err() == nil {
		w.pruneBlocks()
		room := w.opts.Batch - w.held()
		full := false
		if room > 0 {
			start := w.opts.Now()
			ds, err := w.inbox.Take(ctx, w.opts.Consumer, room, w.opts.Lease)
			if err != nil && ctx.Err() == nil {
				w.log.Error("inbox: take failed", "err", err)
			}
			deadline := start.Add(w.opts.Lease)
			for _, d := range ds {
				w.dispatch(work, ctx.Done(), slots, &wg, taken{d: d, deadline: deadline})
			}
			full = len(ds) == room
		}
		if full {
			continue // more may be waiting
		}
		var freed <-chan struct{}
		if room <= 0 {
			freed = w.freed
		}
		poll.Reset(w.opts.Poll)
		select {
		case <-ctx.Done():
		case <-w.kick:
		case <-freed:
		case <-poll.C:
		}
	}
	wg.Wait()
	return nil
}

// held counts the deliveries taken and not finished.
func (w *Worker) held() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.inflight)
}

// dispatch starts t's processing: in a goroutine of its own, or behind
// the deliveries of its order key.
func (w *Worker) dispatch(ctx context.Context, stop <-chan struct{}, slots chan struct{}, wg *sync.WaitGroup, t taken) {
	w.mu.Lock()
	if w.inflight[t.d.ID] {
		// Its lease ran out while it waited or ran here: the run under
		// way finishes it.
		w.mu.Unlock()
		return
	}
	w.inflight[t.d.ID] = true
	key := t.d.Meta[OrderKey]
	if key == "" {
		w.mu.Unlock()
		wg.Go(func() {
			w.process(ctx, stop, slots, t)
			w.finish(t.d.ID)
		})
		return
	}
	if l := w.lanes[key]; l != nil {
		l.queue = append(l.queue, t)
		w.mu.Unlock()
		return
	}
	l := &lane{queue: []taken{t}}
	w.lanes[key] = l
	w.mu.Unlock()
	wg.Go(func() {
		for {
			w.mu.Lock()
			if len(l.queue) == 0 {
				delete(w.lanes, key)
				w.mu.Unlock()
				return
			}
			next := l.queue[0]
			l.queue = l.queue[1:]
			w.mu.Unlock()
			w.process(ctx, stop, slots, next)
			w.finish(next.d.ID)
		}
	})
}

// finish forgets a delivery the worker no longer holds and wakes Run if
// it waits for room.
func (w *Worker) finish(id string) {
	w.mu.Lock()
	delete(w.inflight, id)
	w.mu.Unlock()
	select {
	case w.freed <- struct{}{}:
	default:
	}
}

// process runs one delivery's handler, when its turn comes, and settles
// the delivery by the outcome.
func (w *Worker) process(ctx context.Context, stop <-chan struct{}, slots chan struct{}, t taken) {
	d := t.d
	log := w.log.With("delivery_id", d.ID, "source", d.Source, "attempts", d.Attempts)
	select {
	case <-stop:
		return // shutting down: the lease brings it back
	default:
	}
	key := d.Meta[OrderKey]
	if key != "" && w.heldBack(key, d.ID) {
		log.Debug("inbox: delivery left behind an earlier one of its order key", "order_key", key)
		return
	}
	if d.Attempts > w.opts.MaxAttempts {
		// Taken that often without finishing: its handler may bring the
		// process down.
		w.drop(ctx, log, key, d.ID, fmt.Errorf("taken %d times, more than %d attempts", d.Attempts, w.opts.MaxAttempts))
		return
	}
	select {
	case slots <- struct{}{}:
	case <-stop:
		return
	}
	if !w.opts.Now().Before(t.deadline) {
		// Its lease ran out while it waited: it may be another
		// consumer's now.
		<-slots
		log.Debug("inbox: delivery's lease ran out before its turn")
		w.holdBehind(key, d.ID)
		return
	}
	err := w.handle(ctx, t)
	<-slots
	switch {
	case err == nil:
		if w.done(ctx, log, d.ID) {
			w.processed.Add(1)
		}
		w.unblock(key, d.ID)
	case fault.IsPermanent(err):
		w.drop(ctx, log, key, d.ID, err)
	case d.Attempts >= w.opts.MaxAttempts:
		w.failed.Add(1)
		w.drop(ctx, log, key, d.ID, fmt.Errorf("attempt %d of %d: %w", d.Attempts, w.opts.MaxAttempts, err))
	default:
		w.failed.Add(1)
		log.Warn("inbox: delivery failed; it comes back when its lease runs out", "err", err, "retry_after", max(t.deadline.Sub(w.opts.Now()), 0).Round(time.Millisecond))
		w.holdBehind(key, d.ID)
	}
}

// holdBehind makes the later deliveries of key wait for id, which is left
// unfinished and comes back when its lease ends, for one lease from now
// at most: by then id is free to take again (this worker takes it before
// the later ones, being older), or another consumer has it.
func (w *Worker) holdBehind(key, id string) {
	if key == "" {
		return
	}
	w.mu.Lock()
	w.blocked[key] = block{id: id, until: w.opts.Now().Add(w.opts.Lease)}
	w.mu.Unlock()
}

// handle calls the delivery's handler with a context that ends with its
// lease, and turns a panic into an error. The call is traced as a child
// of the webhook request that stored the delivery: one trace then goes
// from the request to the Slack post, and each attempt of a delivery
// that is retried shows as one more child of that request.
func (w *Worker) handle(ctx context.Context, t taken) (err error) {
	ctx, span := w.tracer.Start(ExtractTrace(ctx, t.d.Meta), "process delivery", consumerSpan...)
	defer func() { endDeliverySpan(span, t.d, err) }()
	h := w.handlers[t.d.Source]
	if h == nil {
		return fault.Permanent(fmt.Errorf("no handler for source %q", t.d.Source))
	}
	ctx, cancel := context.WithTimeout(ctx, t.deadline.Sub(w.opts.Now())) // the deadline is on the worker's clock
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the handler of %s panicked: %v", t.d.Source, r)
		}
	}()
	return h.HandleDelivery(ctx, t.d)
}

// consumerSpan are the options of a delivery's span, made once.
var consumerSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}

// endDeliverySpan names the delivery on its span, with the outcome, and
// ends it. The error's text is not exported (a processor's error may
// quote the payload): only whether it was permanent.
func endDeliverySpan(span trace.Span, d Delivery, err error) {
	if span.IsRecording() {
		outcome := "processed"
		switch {
		case fault.IsPermanent(err):
			outcome = "dropped"
		case err != nil:
			outcome = "failed"
		}
		span.SetAttributes(
			attribute.String("breadcrumb.delivery.id", d.ID),
			attribute.String("breadcrumb.delivery.source", d.Source),
			attribute.Int("breadcrumb.delivery.attempt", d.Attempts),
			attribute.String("breadcrumb.delivery.outcome", outcome),
		)
		if err != nil {
			span.SetStatus(codes.Error, outcome)
		}
	}
	span.End()
}

// drop marks a delivery done without processing it, and says why.
func (w *Worker) drop(ctx context.Context, log *slog.Logger, key, id string, why error) {
	if w.done(ctx, log, id) {
		w.dropped.Add(1)
		log.Error("inbox: delivery dropped", "err", why)
	}
	w.unblock(key, id)
}

// done marks a delivery done and reports whether that worked; a failure
// is logged, and the delivery comes back when its lease runs out.
func (w *Worker) done(ctx context.Context, log *slog.Logger, id string) bool {
	if err := w.inbox.Done(ctx, id); err != nil {
		log.Error("inbox: marking a delivery done failed; it will be processed again", "err", err)
		return false
	}
	return true
}

// heldBack reports whether a delivery of key must wait for an earlier
// one that failed and has not come back yet.
func (w *Worker) heldBack(key, id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.blocked[key]
	switch {
	case !ok || b.id == id:
		return false
	case !w.opts.Now().Before(b.until):
		delete(w.blocked, key) // the failed one is free to take again, first
		return false
	}
	return true
}

// pruneBlocks forgets the blocks whose failed delivery is free to take
// again: it may have gone to another worker.
func (w *Worker) pruneBlocks() {
	now := w.opts.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, b := range w.blocked {
		if !now.Before(b.until) {
			delete(w.blocked, key)
		}
	}
}

// unblock lets the deliveries of key go on once id, which held them
// back, is settled.
func (w *Worker) unblock(key, id string) {
	if key == "" {
		return
	}
	w.mu.Lock()
	if b, ok := w.blocked[key]; ok && b.id == id {
		delete(w.blocked, key)
	}
	w.mu.Unlock()
}
