package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// jobTimeout bounds one piece of background work (a post, an upload).
const jobTimeout = 2 * time.Minute

// queue runs background work in order per key (an incident's ID), one
// goroutine per key that has work, so that one slow incident never holds
// up another. When a key's work runs out, idle is called once before its
// goroutine ends (the bot refreshes the incident's messages then, once
// for a burst of changes).
//
// A job queued from a traced context runs in a "bot work" span, a child
// of the span that queued it, though it runs later on another goroutine;
// the idle refresh that follows is a child of the last traced job's. Work
// queued without a span runs without one.
type queue struct {
	idle   func(ctx context.Context, key string)
	log    *slog.Logger
	tracer trace.Tracer

	mu      sync.Mutex
	cond    *sync.Cond
	workers map[string]*worker
	closed  bool
}

type worker struct {
	jobs []queued
}

// queued is a job and the span context it was queued under (the zero
// one for work that is not traced).
type queued struct {
	run    func(ctx context.Context)
	parent trace.SpanContext
}

func newQueue(idle func(ctx context.Context, key string), log *slog.Logger, tracer trace.Tracer) *queue {
	q := &queue{idle: idle, log: log, tracer: tracer, workers: map[string]*worker{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push queues job under key. After close, only keys whose work is still
// running take more (the work they queue themselves); it reports whether
// job was queued.
func (q *queue) push(key string, job func(ctx context.Context)) bool {
	return q.pushFrom(trace.SpanContext{}, key, job)
}

// pushFrom queues job like push; the job's span is a child of parent
// when parent is valid.
func (q *queue) pushFrom(parent trace.SpanContext, key string, job func(ctx context.Context)) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	w := q.workers[key]
	if w == nil {
		if q.closed {
			return false
		}
		w = &worker{}
		q.workers[key] = w
		go q.run(key, w)
	}
	w.jobs = append(w.jobs, queued{run: job, parent: parent})
	return true
}

func (q *queue) run(key string, w *worker) {
	idled := false
	var last trace.SpanContext // of the last traced job, for the idle refresh
	for {
		q.mu.Lock()
		if len(w.jobs) == 0 {
			if idled || q.idle == nil {
				delete(q.workers, key)
				q.cond.Broadcast()
				q.mu.Unlock()
				return
			}
			q.mu.Unlock()
			idled = true
			q.call(key, queued{run: func(ctx context.Context) { q.idle(ctx, key) }, parent: last})
			last = trace.SpanContext{}
			continue
		}
		job := w.jobs[0]
		w.jobs[0] = queued{}
		w.jobs = w.jobs[1:]
		q.mu.Unlock()
		idled = false
		if job.parent.IsValid() {
			last = job.parent
		}
		q.call(key, job)
	}
}

// call runs one job; a job that panics is logged, and the key's other
// work goes on.
func (q *queue) call(key string, job queued) {
	ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
	defer cancel()
	if job.parent.IsValid() {
		var span trace.Span
		ctx, span = q.tracer.Start(trace.ContextWithSpanContext(ctx, job.parent), "bot work",
			trace.WithAttributes(attribute.String("breadcrumb.bot.key", key)))
		defer span.End()
	}
	defer func() {
		if r := recover(); r != nil {
			q.log.Error("bot: background work failed", "key", key, "panic", fmt.Sprint(r))
		}
	}()
	job.run(ctx)
}

// close refuses new keys and waits for the running ones to finish.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for len(q.workers) > 0 {
		q.cond.Wait()
	}
}

// wait returns when no work is queued or running: for tests and
// benchmarks, which read what the chat holds after the bot has done.
func (q *queue) wait() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.workers) > 0 {
		q.cond.Wait()
	}
}
