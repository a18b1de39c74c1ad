package boltstore

import (
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// maxBatch bounds the writes one transaction carries: a storm's queue is
// committed in several transactions rather than one very large one.
const maxBatch = 256

// writeFunc is a write of the store: it changes tx and reports whether it
// changed anything.
//
// A writeFunc runs in a transaction shared with the writes that were
// queued with it (see committer), so it must:
//
//   - set every result it hands back on each run: it may run more than
//     once, when a write of its batch fails and the batch is run again
//     without it;
//   - write nothing before it reports no change that could not be kept
//     (the transaction may be committed for the others' sake);
//   - call no other write of the store (the committer would wait for
//     itself).
type writeFunc func(tx *bolt.Tx) (changed bool, err error)

// writeCall is one write waiting for its transaction's outcome.
type writeCall struct {
	fn   writeFunc
	done chan error
}

// committer runs the store's writes, group commit: the writes queued
// while a transaction syncs are run together, in the order they came, in
// the next transaction, with one sync. A webhook's Put then waits for at
// most the sync under way and its own, however many writers (the inbox
// worker, the bot, other webhooks) queue beside it, where bbolt's single
// writer lock lined them up one sync each.
//
// No goroutine waits for writes: a write that finds no commit under way
// commits itself (a lone write costs no hand-over), and a committing
// goroutine that finds more writes queued once its own is done hands
// them to a new goroutine, and returns.
//
// Each write returns once its transaction is synced, as before. When a
// write fails, its transaction is rolled back whole: the failed write runs
// again alone, and its outcome there is the one it gets; the others run
// again without it.
type committer struct {
	db *bolt.DB

	mu      sync.Mutex
	queue   []*writeCall
	running bool // a goroutine commits the queue
	closing bool
	idle    *sync.Cond // signalled when running turns false
}

func newCommitter(db *bolt.DB) *committer {
	c := &committer{db: db}
	c.idle = sync.NewCond(&c.mu)
	return c
}

// write queues fn and waits for the outcome of its transaction.
func (c *committer) write(fn writeFunc) error {
	call := &writeCall{fn: fn, done: make(chan error, 1)}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return berrors.ErrDatabaseNotOpen
	}
	c.queue = append(c.queue, call)
	lead := !c.running
	c.running = true
	c.mu.Unlock()
	if lead {
		c.lead()
	}
	return <-call.done
}

// close lets the writes queued be committed, refuses any later write and
// returns once nothing is being committed.
func (c *committer) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	for c.running {
		c.idle.Wait()
	}
}

// lead commits a batch of the queue (at most maxBatch writes), then
// hands what was queued meanwhile to a new goroutine.
func (c *committer) lead() {
	c.mu.Lock()
	n := min(len(c.queue), maxBatch)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()
	c.commit(batch)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.queue = nil
		c.running = false
		c.idle.Broadcast()
		return
	}
	go c.lead()
}

// commit runs batch in one transaction and answers every call. A call
// that fails is taken out, and run alone once the others are committed.
func (c *committer) commit(batch []*writeCall) {
	var alone []*writeCall
	for len(batch) > 0 {
		failed, err := c.run(batch)
		if failed < 0 {
			for _, call := range batch {
				call.done <- err
			}
			break
		}
		alone = append(alone, batch[failed])
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
	for _, call := range alone {
		_, err := c.run([]*writeCall{call})
		call.done <- err
	}
}

// run runs calls in one write transaction, committed when one of them
// changed something. When a call fails, the transaction is rolled back and
// run returns the call's index and error; else -1 and the commit's error.
func (c *committer) run(calls []*writeCall) (failed int, err error) {
	tx, err := c.db.Begin(true)
	if err != nil {
		return -1, err
	}
	defer tx.Rollback() // after Commit, a no-op
	changed := false
	for i, call := range calls {
		ch, err := safely(call.fn, tx)
		if err != nil {
			return i, err
		}
		changed = changed || ch
	}
	if !changed {
		return -1, nil
	}
	return -1, tx.Commit()
}

// safely calls fn, turning a panic into an error: it runs on the
// committer's goroutine, which must outlive it.
func safely(fn writeFunc, tx *bolt.Tx) (changed bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			changed, err = false, fmt.Errorf("a write panicked: %v", r)
		}
	}()
	return fn(tx)
}
