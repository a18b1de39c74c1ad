package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// jobTimeout bounds one piece of background work (a post, an upload).
const jobTimeout = 2 * time.Minute

// queue runs background work in order per key (an incident's ID), one
// goroutine per key that has work, so that one slow incident never holds
// up another. When a key's work runs out, idle is called once before its
// goroutine ends (the bot refreshes the incident's messages then, once
// for a burst of changes).
type queue struct {
	idle func(ctx context.Context, key string)
	log  *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	workers map[string]*worker
	closed  bool
}

type worker struct {
	jobs []func(ctx context.Context)
}

func newQueue(idle func(ctx context.Context, key string), log *slog.Logger) *queue {
	q := &queue{idle: idle, log: log, workers: map[string]*worker{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push queues job under key. After close, only keys whose work is still
// running take more (the work they queue themselves); it reports whether
// job was queued.
func (q *queue) push(key string, job func(ctx context.Context)) bool {
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
	w.jobs = append(w.jobs, job)
	return true
}

func (q *queue) run(key string, w *worker) {
	idled := false
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
			q.call(key, func(ctx context.Context) { q.idle(ctx, key) })
			continue
		}
		job := w.jobs[0]
		w.jobs[0] = nil
		w.jobs = w.jobs[1:]
		q.mu.Unlock()
		idled = false
		q.call(key, job)
	}
}

// call runs one job; a job that panics is logged, and the key's other
// work goes on.
func (q *queue) call(key string, job func(ctx context.Context)) {
	ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			q.log.Error("bot: background work failed", "key", key, "panic", fmt.Sprint(r))
		}
	}()
	job(ctx)
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
