package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Clock is the outbox's time: the real one, or a test's.
type Clock interface {
	Now() time.Time
	// After fires once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// OutboxConfig tunes the outbox. Zero fields take the defaults.
type OutboxConfig struct {
	// Interval is the time one channel's writes are spaced by on average
	// (default 1s, Slack's guidance for chat.postMessage).
	Interval time.Duration
	// Burst is how many writes a quiet channel may send back to back
	// (default 2).
	Burst int
	// Attempts bounds the tries of one write that fails with a server
	// error or a timeout (default 5). Rate limits are waited out and do
	// not count, up to 30 of them.
	Attempts int
	// Backoff is the wait before the second try; it doubles with each
	// try up to MaxBackoff (defaults 500ms and 30s).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// CallTimeout bounds one call to Slack (default 10s).
	CallTimeout time.Duration
	// Clock is the outbox's time (default the real one).
	Clock Clock
	// Logger receives the failures of writes that nobody waits for.
	Logger *slog.Logger
	// TracerProvider makes a "slack <method>" span of each call to Slack,
	// a child of the span the write was queued under; nil means the
	// global provider, a no-op unless the process set one.
	TracerProvider trace.TracerProvider
}

func (c OutboxConfig) withDefaults() OutboxConfig {
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Burst <= 0 {
		c.Burst = 2
	}
	if c.Attempts <= 0 {
		c.Attempts = 5
	}
	if c.Backoff <= 0 {
		c.Backoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 10 * time.Second
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.TracerProvider == nil {
		c.TracerProvider = otel.GetTracerProvider()
	}
	return c
}

const maxRateLimitWaits = 30

// Outbox sends the writes to each channel one at a time, in order, at
// about one a second per channel (a token bucket), waits out Slack's 429
// for as long as Retry-After says, retries server errors and timeouts
// with a growing backoff, and merges the queued updates of one message
// into the last of them. A post that may have reached Slack before its
// call failed is looked for before it is sent again (see Chat.Post), so
// that nothing is posted twice.
type Outbox struct {
	cfg    OutboxConfig
	tracer trace.Tracer
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	queues map[string]*queue
	closed bool
	wg     sync.WaitGroup

	calls, errs, rateLimited, retries, merged, recovered atomic.Uint64
}

type queue struct {
	jobs    []*job
	running bool
	tokens  float64
	last    time.Time
}

// job is one write. call sends it and returns the message's ts; check,
// when set, looks for a message that an earlier, failed call may have
// posted after all.
type job struct {
	method   string
	target   string
	mergeKey string
	call     func(ctx context.Context) (string, error)
	check    func(ctx context.Context) (string, bool, error)
	// once marks a write that must not be repeated after a failure that
	// may have taken effect, and that has no check.
	once bool
	// parent is the span context the write was queued under: the spans
	// of its calls are its children. An update that replaces a waiting
	// one brings its own.
	parent trace.SpanContext
	done   chan jobResult
	// merged are the waiters of the jobs this one replaced: they learn
	// this job's result, which is what reached Slack in their place.
	merged []chan jobResult
}

// finish gives the job's result to everyone waiting for it.
func (j *job) finish(r jobResult) {
	if j.done != nil {
		j.done <- r
	}
	for _, c := range j.merged {
		c <- r
	}
}

type jobResult struct {
	ts  string
	err error
}

// NewOutbox returns a running outbox; Close stops it.
func NewOutbox(cfg OutboxConfig) *Outbox {
	ctx, cancel := context.WithCancel(context.Background())
	cfg = cfg.withDefaults()
	return &Outbox{cfg: cfg, tracer: cfg.TracerProvider.Tracer("github.com/breadcrumb-oncall/breadcrumb/bot/slack"),
		ctx: ctx, cancel: cancel, queues: map[string]*queue{}}
}

// Stats are the outbox's counters since it started, for metrics.
type Stats struct {
	// Calls counts calls to Slack, Errors the failed ones, RateLimited
	// the 429s among them.
	Calls, Errors, RateLimited uint64
	// Retries counts second and later tries, Merged the updates replaced
	// by a later one before they were sent, Recovered the posts found
	// already in Slack after a failed call.
	Retries, Merged, Recovered uint64
	// Queued is the number of writes waiting, per channel with any.
	Queued map[string]int
}

// Stats returns the counters and the queue depth of each channel.
func (o *Outbox) Stats() Stats {
	s := Stats{
		Calls: o.calls.Load(), Errors: o.errs.Load(), RateLimited: o.rateLimited.Load(),
		Retries: o.retries.Load(), Merged: o.merged.Load(), Recovered: o.recovered.Load(),
		Queued: map[string]int{},
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for ch, q := range o.queues {
		if len(q.jobs) > 0 {
			s.Queued[ch] = len(q.jobs)
		}
	}
	return s
}

// enqueue adds j to channel's queue. An update whose mergeKey matches one
// still waiting replaces it in its place.
func (o *Outbox) enqueue(channel string, j *job) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	q := o.queues[channel]
	if q == nil {
		q = &queue{tokens: float64(o.cfg.Burst), last: o.cfg.Clock.Now()}
		o.queues[channel] = q
	}
	if j.mergeKey != "" {
		for i, w := range q.jobs {
			if w.mergeKey == j.mergeKey {
				j.merged = append(j.merged, w.merged...)
				if w.done != nil {
					j.merged = append(j.merged, w.done)
				}
				q.jobs[i] = j
				o.merged.Add(1)
				return nil
			}
		}
	}
	q.jobs = append(q.jobs, j)
	if !q.running {
		q.running = true
		o.wg.Add(1)
		go o.work(channel, q)
	}
	return nil
}

// do sends j through channel's queue and waits for its result, or for
// ctx. A job whose caller stopped waiting is still sent: it may be in
// flight, and a half-made write is worse than a late one.
func (o *Outbox) do(ctx context.Context, channel string, j *job) (string, error) {
	j.done = make(chan jobResult, 1)
	j.parent = trace.SpanContextFromContext(ctx)
	if err := o.enqueue(channel, j); err != nil {
		return "", fmt.Errorf("slack: %s %s: %w", j.method, j.target, err)
	}
	select {
	case r := <-j.done:
		return r.ts, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("slack: %s %s: waiting for the outbox: %w", j.method, j.target, ctx.Err())
	}
}

// work sends the queue's jobs until none is left.
func (o *Outbox) work(channel string, q *queue) {
	defer o.wg.Done()
	for {
		o.mu.Lock()
		if len(q.jobs) == 0 {
			q.running = false
			o.mu.Unlock()
			return
		}
		j := q.jobs[0]
		q.jobs = q.jobs[1:]
		o.mu.Unlock()

		ts, err := o.run(channel, q, j)
		j.finish(jobResult{ts: ts, err: err})
		if j.done == nil && len(j.merged) == 0 && err != nil {
			o.cfg.Logger.Error("slack write failed", "method", j.method, "target", j.target, "err", err)
		}
	}
}

// take waits for the channel's bucket to hold a token and spends it.
func (o *Outbox) take(q *queue) error {
	rate := float64(time.Second) / float64(o.cfg.Interval)
	for {
		now := o.cfg.Clock.Now()
		q.tokens = min(float64(o.cfg.Burst), q.tokens+now.Sub(q.last).Seconds()*rate)
		q.last = now
		if q.tokens >= 1 {
			q.tokens--
			return nil
		}
		wait := time.Duration((1 - q.tokens) / rate * float64(time.Second))
		if err := o.sleep(wait); err != nil {
			return err
		}
	}
}

func (o *Outbox) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	select {
	case <-o.cfg.Clock.After(d):
		return nil
	case <-o.ctx.Done():
		return ErrClosed
	}
}

// run sends one job to channel with its retries.
func (o *Outbox) run(channel string, q *queue, j *job) (string, error) {
	backoff := o.cfg.Backoff
	failures, limits := 0, 0
	maybeSent := false
	var last error
	for {
		if maybeSent && j.check != nil {
			ctx, cancel := context.WithTimeout(o.ctx, o.cfg.CallTimeout)
			ctx, span := o.startCall(ctx, j, "lookup", channel, failures+limits+1)
			ts, found, err := j.check(ctx)
			endCall(span, err)
			cancel()
			o.calls.Add(1)
			switch {
			case err != nil:
				o.errs.Add(1)
				failures++
				if failures >= o.cfg.Attempts {
					return "", fmt.Errorf("slack: %s %s: could not tell whether the write went through after %w: %w", j.method, j.target, last, err)
				}
				if err := o.sleep(backoff); err != nil {
					return "", err
				}
				backoff = min(2*backoff, o.cfg.MaxBackoff)
				continue
			case found:
				o.recovered.Add(1)
				return ts, nil
			}
			maybeSent = false
		}
		if err := o.take(q); err != nil {
			return "", fmt.Errorf("slack: %s %s: %w", j.method, j.target, err)
		}
		if failures+limits > 0 {
			o.retries.Add(1)
		}
		ctx, cancel := context.WithTimeout(o.ctx, o.cfg.CallTimeout)
		ctx, span := o.startCall(ctx, j, j.method, channel, failures+limits+1)
		ts, err := j.call(ctx)
		cancel()
		o.calls.Add(1)
		if err == nil {
			endCall(span, nil)
			return ts, nil
		}
		o.errs.Add(1)
		err = apiError(j.method, j.target, err)
		endCall(span, err)
		last = err
		var e *Error
		if !errors.As(err, &e) || !e.Retryable() || o.ctx.Err() != nil {
			return "", err
		}
		if e.RateLimited() {
			o.rateLimited.Add(1)
			limits++
			if limits > maxRateLimitWaits {
				return "", err
			}
			if err := o.sleep(e.RetryAfter); err != nil {
				return "", err
			}
			continue
		}
		if e.maybeSent && j.once {
			return "", err
		}
		failures++
		if failures >= o.cfg.Attempts {
			if e.maybeSent && j.check != nil {
				// The last try may have landed: look before giving up,
				// and never hand back an error that invites another
				// post of the same message.
				ctx, cancel := context.WithTimeout(o.ctx, o.cfg.CallTimeout)
				ts, found, cerr := j.check(ctx)
				cancel()
				o.calls.Add(1)
				if cerr == nil && found {
					o.recovered.Add(1)
					return ts, nil
				}
			}
			return "", final{err}
		}
		maybeSent = e.maybeSent
		if err := o.sleep(backoff); err != nil {
			return "", err
		}
		backoff = min(2*backoff, o.cfg.MaxBackoff)
	}
}

// Flush waits until every write queued so far is sent (or has failed),
// or until ctx ends.
func (o *Outbox) Flush(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		o.mu.Lock()
		busy := false
		for _, q := range o.queues {
			if q.running || len(q.jobs) > 0 {
				busy = true
				break
			}
		}
		o.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("slack: outbox flush: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// Close stops taking writes and waits for the queued ones to be sent,
// until ctx ends; then it abandons the rest and says how many.
func (o *Outbox) Close(ctx context.Context) error {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	done := make(chan struct{})
	go func() { o.wg.Wait(); close(done) }()
	select {
	case <-done:
		o.cancel()
		return nil
	case <-ctx.Done():
	}
	o.cancel()
	o.mu.Lock()
	left := 0
	for _, q := range o.queues {
		left += len(q.jobs)
		for _, j := range q.jobs {
			j.finish(jobResult{err: ErrClosed})
		}
		q.jobs = nil
	}
	o.mu.Unlock()
	<-done
	return fmt.Errorf("slack: outbox closed with %d writes unsent: %w", left, ctx.Err())
}

// final is an error after which the outbox tried all it would: it is not
// Retryable, so that a caller does not send the same write again (a post
// that may have landed would then be made twice).
type final struct{ err error }

func (f final) Error() string   { return f.err.Error() }
func (f final) Unwrap() error   { return f.err }
func (f final) Retryable() bool { return false }
