package inbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/internal/poll"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
)

// workerWaitFor is how long a test polls for what should happen soon.
const workerWaitFor = 15 * time.Second

// workerLease is a lease that tests wait out, by polling.
const workerLease = 500 * time.Millisecond

func openBoltInbox(t *testing.T) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func putDelivery(t *testing.T, in inbox.Inbox, d inbox.Delivery) {
	t.Helper()
	if stored, err := in.Put(context.Background(), d); err != nil || !stored {
		t.Fatalf("Put(%s) = %v, %v, want true, nil", d.ID, stored, err)
	}
}

func newDelivery(id, source, orderKey string) inbox.Delivery {
	d := inbox.Delivery{ID: id, Source: source, Body: []byte("secret-looking body of " + id), ReceivedAt: time.Now()}
	if orderKey != "" {
		d.Meta = map[string]string{inbox.OrderKey: orderKey}
	}
	return d
}

func pendingOf(t *testing.T, in inbox.Inbox) int {
	t.Helper()
	n, err := in.Pending(context.Background())
	if err != nil {
		t.Fatalf("Pending = %v", err)
	}
	return n
}

// runWorker runs w until the test ends, or until the returned stop is
// called; stop waits for Run to return.
func runWorker(t *testing.T, w *inbox.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// deliveryRecorder is a handler that records the deliveries it sees, and fails
// the first failures[id] attempts of a delivery: a fake that injects
// failures.
type deliveryRecorder struct {
	mu       sync.Mutex
	seen     []inbox.Delivery
	okIDs    []string
	failures map[string]int
	err      error // the error of a failing attempt
}

func (r *deliveryRecorder) HandleDelivery(ctx context.Context, d inbox.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, d)
	if r.failures[d.ID] > 0 {
		r.failures[d.ID]--
		if r.err != nil {
			return r.err
		}
		return fmt.Errorf("injected failure of %s", d.ID)
	}
	r.okIDs = append(r.okIDs, d.ID)
	return nil
}

func (r *deliveryRecorder) attemptsOf(id string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, d := range r.seen {
		if d.ID == id {
			out = append(out, d.Attempts)
		}
	}
	return out
}

func (r *deliveryRecorder) ok() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.okIDs)
}

// syncLogBuffer collects a JSON log, safe for concurrent writes.
type syncLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the log's lines at level.
func (b *syncLogBuffer) records(t *testing.T, level string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["level"] == level {
			out = append(out, rec)
		}
	}
	return out
}

func jsonLogger(b *syncLogBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestWorkerProcessesADeliveryAtOnceWhenKicked(t *testing.T) {
	in := openBoltInbox(t)
	rec := &deliveryRecorder{}
	w := inbox.NewWorker(in, map[string]inbox.Handler{"alertmanager": rec},
		inbox.WorkerOptions{Poll: time.Hour})
	putDelivery(t, in, newDelivery("am:0", "alertmanager", ""))
	runWorker(t, w)
	poll.Until(t, "the first delivery's processing", func() bool { return w.Stats().Processed == 1 })

	// The worker now waits for an hour's poll, unless kicked.
	putDelivery(t, in, newDelivery("am:1", "alertmanager", ""))
	w.Kick()
	poll.Until(t, "the kicked delivery's processing", func() bool { return w.Stats().Processed == 2 })
	if got, want := rec.ok(), []string{"am:0", "am:1"}; !slices.Equal(got, want) {
		t.Errorf("handled %q, want %q", got, want)
	}
	if got, want := w.Stats(), (inbox.WorkerStats{Processed: 2}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestWorkerRetriesAFailedDeliveryAfterItsLease(t *testing.T) {
	in := openBoltInbox(t)
	var logs syncLogBuffer
	rec := &deliveryRecorder{failures: map[string]int{"am:1": 2}}
	w := inbox.NewWorker(in, map[string]inbox.Handler{"alertmanager": rec},
		inbox.WorkerOptions{Lease: workerLease, Poll: 10 * time.Millisecond, Logger: jsonLogger(&logs)})
	putDelivery(t, in, newDelivery("am:1", "alertmanager", ""))
	runWorker(t, w)
	poll.Until(t, "am:1's processing", func() bool { return w.Stats().Processed == 1 })

	// A Take slower than the lease (a loaded machine) may skip an
	// attempt, never repeat one.
	if got := rec.attemptsOf("am:1"); len(got) != 3 || got[0] != 1 || !slices.IsSorted(got) || got[1] == got[0] || got[2] == got[1] {
		t.Errorf("the handler saw am:1 on attempts %v, want three rising from 1, such as [1 2 3]", got)
	}
	if got, want := w.Stats(), (inbox.WorkerStats{Processed: 1, Failed: 2}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	if warns := logs.records(t, "WARN"); len(warns) != 2 || warns[0]["delivery_id"] != "am:1" {
		t.Errorf("warnings logged: %v, want 2 about am:1", warns)
	}
}

func TestWorkerDropsADelivery(t *testing.T) {
	tests := []struct {
		name     string
		source   string
		handler  *deliveryRecorder
		attempts []int // the attempts the handler sees, on an idle machine
		failed   uint64
	}{
		{
			name:     "a permanent error drops it at once",
			source:   "alertmanager",
			handler:  &deliveryRecorder{failures: map[string]int{"d1": 100}, err: fault.Permanent(errors.New("the body is not JSON"))},
			attempts: []int{1},
		},
		{
			name:     "an unknown source drops it at once",
			source:   "nagios",
			handler:  &deliveryRecorder{},
			attempts: nil,
		},
		{
			name:     "a retryable error drops it after the last attempt",
			source:   "alertmanager",
			handler:  &deliveryRecorder{failures: map[string]int{"d1": 100}},
			attempts: []int{1, 2, 3},
			failed:   3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := openBoltInbox(t)
			var logs syncLogBuffer
			w := inbox.NewWorker(in, map[string]inbox.Handler{"alertmanager": tt.handler},
				inbox.WorkerOptions{Lease: workerLease, Poll: 10 * time.Millisecond, MaxAttempts: 3, Logger: jsonLogger(&logs)})
			d := newDelivery("d1", tt.source, "")
			putDelivery(t, in, d)
			stop := runWorker(t, w)
			poll.Until(t, "the drop", func() bool { return w.Stats().Dropped == 1 })
			stop()

			if n := pendingOf(t, in); n != 0 {
				t.Errorf("Pending() = %d, want 0", n)
			}
			// A Take slower than the lease (a loaded machine) may skip an
			// attempt, but not the first one, and none runs past the last.
			got := tt.handler.attemptsOf("d1")
			if !slices.Equal(got, tt.attempts) && (len(got) < 2 || len(tt.attempts) < 3 || got[0] != 1 || !slices.IsSorted(got) || got[len(got)-1] > 3) {
				t.Errorf("the handler saw d1 on attempts %v, want %v", got, tt.attempts)
			}
			failed := tt.failed
			if failed > 0 {
				failed = uint64(len(got))
			}
			if got, want := w.Stats(), (inbox.WorkerStats{Failed: failed, Dropped: 1}); got != want {
				t.Errorf("Stats() = %+v, want %+v", got, want)
			}
			errs := logs.records(t, "ERROR")
			if len(errs) != 1 || errs[0]["delivery_id"] != "d1" || errs[0]["source"] != tt.source {
				t.Errorf("error lines: %v, want one with delivery_id d1 and source %s", errs, tt.source)
			}
			if strings.Contains(logs.String(), string(d.Body)) {
				t.Errorf("the log holds the delivery's body: %s", logs.String())
			}
			if stored, err := in.Put(context.Background(), d); err != nil || stored {
				t.Errorf("Put of the dropped delivery again = %v, %v, want false, nil", stored, err)
			}
		})
	}
}

func TestWorkerRecoversAPanicAndRetries(t *testing.T) {
	in := openBoltInbox(t)
	var panics atomic.Int64
	rec := &deliveryRecorder{}
	h := inbox.HandlerFunc(func(ctx context.Context, d inbox.Delivery) error {
		if panics.Add(1) == 1 {
			panic("a nil map somewhere")
		}
		return rec.HandleDelivery(ctx, d)
	})
	var logs syncLogBuffer
	w := inbox.NewWorker(in, map[string]inbox.Handler{"slack": h},
		inbox.WorkerOptions{Lease: workerLease, Poll: 10 * time.Millisecond, Logger: jsonLogger(&logs)})
	defer func() {
		if t.Failed() {
			t.Logf("the worker's log:\n%s", logs.String())
		}
	}()
	putDelivery(t, in, newDelivery("s:1", "slack", ""))
	runWorker(t, w)
	poll.Until(t, "s:1's processing", func() bool { return w.Stats().Processed == 1 })
	// A Take slower than the lease (a loaded machine) may skip an
	// attempt.
	if got := rec.attemptsOf("s:1"); len(got) != 1 || got[0] < 2 {
		t.Errorf("after a panic, the handler finished s:1 on attempts %v, want one attempt after the first, such as [2]", got)
	}
	if got, want := w.Stats(), (inbox.WorkerStats{Processed: 1, Failed: 1}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestWorkerKeepsTheOrderOfAnOrderKey(t *testing.T) {
	in := openBoltInbox(t)
	// The first delivery of key a fails once: the later ones of a must
	// wait for its retry.
	rec := &deliveryRecorder{failures: map[string]int{"a0": 1}}
	var (
		mu      sync.Mutex
		running = map[string]int{}
		overlap []string
	)
	h := inbox.HandlerFunc(func(ctx context.Context, d inbox.Delivery) error {
		key := d.Meta[inbox.OrderKey]
		mu.Lock()
		running[key]++
		if key != "" && running[key] > 1 {
			overlap = append(overlap, d.ID)
		}
		mu.Unlock()
		time.Sleep(time.Millisecond) // room for another of the key to start, were it allowed
		err := rec.HandleDelivery(ctx, d)
		mu.Lock()
		running[key]--
		mu.Unlock()
		return err
	})
	var want = map[string][]string{}
	for i := range 8 {
		for _, key := range []string{"a", "b", "c"} {
			id := fmt.Sprintf("%s%d", key, i)
			putDelivery(t, in, newDelivery(id, "alertmanager", key))
			want[key] = append(want[key], id)
		}
	}
	w := inbox.NewWorker(in, map[string]inbox.Handler{"alertmanager": h},
		inbox.WorkerOptions{Lease: workerLease, Poll: 10 * time.Millisecond, Batch: 10, Concurrency: 4})
	runWorker(t, w)
	poll.Until(t, "every delivery's processing", func() bool { return w.Stats().Processed == 24 })

	ok := rec.ok()
	for key, ids := range want {
		var got []string
		for _, id := range ok {
			if strings.HasPrefix(id, key) {
				got = append(got, id)
			}
		}
		if !slices.Equal(got, ids) {
			t.Errorf("deliveries of order key %s were processed in the order %q, want %q", key, got, ids)
		}
	}
	if len(overlap) > 0 {
		t.Errorf("deliveries %q ran while another of their order key ran", overlap)
	}
}

func TestWorkerRunsDifferentOrderKeysAtOnce(t *testing.T) {
	in := openBoltInbox(t)
	bStarted := make(chan struct{})
	h := inbox.HandlerFunc(func(ctx context.Context, d inbox.Delivery) error {
		switch d.ID {
		case "a0":
			select { // a0 finishes only once b0 has started beside it
			case <-bStarted:
				return nil
			case <-ctx.Done():
				return fmt.Errorf("b0 did not start while a0 ran: %w", ctx.Err())
			}
		case "b0":
			close(bStarted)
		}
		return nil
	})
	putDelivery(t, in, newDelivery("a0", "alertmanager", "a"))
	putDelivery(t, in, newDelivery("b0", "alertmanager", "b"))
	w := inbox.NewWorker(in, map[string]inbox.Handler{"alertmanager": h},
		inbox.WorkerOptions{Lease: 10 * time.Second, Poll: 10 * time.Millisecond, Concurrency: 2})
	runWorker(t, w)
	poll.Until(t, "both deliveries' processing", func() bool { return w.Stats().Processed == 2 })
	if got, want := w.Stats(), (inbox.WorkerStats{Processed: 2}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestWorkerFinishesInFlightWorkOnShutdown(t *testing.T) {
	in := openBoltInbox(t)
	started, release := make(chan struct{}), make(chan struct{})
	var ctxErr atomic.Value
	h := inbox.HandlerFunc(func(ctx context.Context, d inbox.Delivery) error {
		close(started)
		<-release
		ctxErr.Store(fmt.Sprint(ctx.Err()))
		return nil
	})
	w := inbox.NewWorker(in, map[string]inbox.Handler{"pagerduty": h},
		inbox.WorkerOptions{Poll: 10 * time.Millisecond})
	putDelivery(t, in, newDelivery("pd:1", "pagerduty", ""))
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- w.Run(ctx) }()
	<-started
	cancel()
	select {
	case err := <-runDone:
		t.Fatalf("Run returned %v while a handler still ran", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-runDone:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(workerWaitFor):
		t.Fatal("Run did not return once its handler finished")
	}
	if got := ctxErr.Load(); got != "<nil>" {
		t.Errorf("the handler's context ended with %v at shutdown, want it alive", got)
	}
	if n := pendingOf(t, in); n != 0 {
		t.Errorf("Pending() after a graceful shutdown = %d, want 0: the delivery in flight was finished", n)
	}
	if got, want := w.Stats(), (inbox.WorkerStats{Processed: 1}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestAnotherWorkerTakesOverAfterACrash(t *testing.T) {
	in := openBoltInbox(t)
	started, release := make(chan struct{}), make(chan struct{})
	hung := inbox.HandlerFunc(func(ctx context.Context, d inbox.Delivery) error {
		close(started)
		<-release // a dead worker never gets to Done
		return errors.New("the process died")
	})
	a := inbox.NewWorker(in, map[string]inbox.Handler{"pagerduty": hung},
		inbox.WorkerOptions{Consumer: "a", Lease: workerLease, Poll: 10 * time.Millisecond})
	stopA := runWorker(t, a)
	putDelivery(t, in, newDelivery("pd:1", "pagerduty", ""))
	a.Kick()
	<-started
	go stopA() // a's ctx is cancelled mid-handler

	rec := &deliveryRecorder{}
	b := inbox.NewWorker(in, map[string]inbox.Handler{"pagerduty": rec},
		inbox.WorkerOptions{Consumer: "b", Lease: time.Minute, Poll: 10 * time.Millisecond})
	runWorker(t, b)
	poll.Until(t, "b's processing of the delivery a held", func() bool { return pendingOf(t, in) == 0 })
	if got, want := rec.attemptsOf("pd:1"), []int{2}; !slices.Equal(got, want) {
		t.Errorf("b saw pd:1 on attempts %v, want %v", got, want)
	}
	close(release)
	stopA()
	if got, want := a.Stats(), (inbox.WorkerStats{Failed: 1}); got != want {
		t.Errorf("a's Stats() = %+v, want %+v", got, want)
	}
}

func TestWorkerRunsOnceAtATime(t *testing.T) {
	in := openBoltInbox(t)
	w := inbox.NewWorker(in, map[string]inbox.Handler{"slack": &deliveryRecorder{}},
		inbox.WorkerOptions{Poll: 10 * time.Millisecond})
	putDelivery(t, in, newDelivery("s:1", "slack", ""))
	stop := runWorker(t, w)
	poll.Until(t, "the first Run's processing", func() bool { return w.Stats().Processed == 1 })
	// A cancelled context makes a second Run return at once, whatever
	// it does.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Run(ctx); err == nil {
		t.Errorf("a second Run while the first runs = nil, want an error")
	}
	stop()
	if err := w.Run(ctx); err != nil {
		t.Errorf("Run after the first returned = %v, want nil", err)
	}
}

// flakyInbox wraps a real inbox and fails the first takeFailures Takes
// and doneFailures Dones: a fake that injects failures.
type flakyInbox struct {
	inbox.Inbox
	takeFailures, doneFailures atomic.Int64
}

func (f *flakyInbox) Take(ctx context.Context, consumer string, n int, lease time.Duration) ([]inbox.Delivery, error) {
	if f.takeFailures.Add(-1) >= 0 {
		return nil, errors.New("injected take failure")
	}
	return f.Inbox.Take(ctx, consumer, n, lease)
}

func (f *flakyInbox) Done(ctx context.Context, id string) error {
	if f.doneFailures.Add(-1) >= 0 {
		return errors.New("injected done failure")
	}
	return f.Inbox.Done(ctx, id)
}

func TestWorkerOutlastsInboxFailures(t *testing.T) {
	bolt := openBoltInbox(t)
	in := &flakyInbox{Inbox: bolt}
	in.takeFailures.Store(2)
	in.doneFailures.Store(1)
	var logs syncLogBuffer
	rec := &deliveryRecorder{}
	w := inbox.NewWorker(in, map[string]inbox.Handler{"alertmanager": rec},
		inbox.WorkerOptions{Lease: workerLease, Poll: 10 * time.Millisecond, Logger: jsonLogger(&logs)})
	putDelivery(t, bolt, newDelivery("am:1", "alertmanager", ""))
	runWorker(t, w)
	poll.Until(t, "am:1's processing", func() bool { return w.Stats().Processed == 1 })

	// The first Done failed: the delivery came back and was handled again.
	if got := rec.attemptsOf("am:1"); len(got) != 2 || got[0] != 1 || got[1] < 2 {
		t.Errorf("the handler saw am:1 on attempts %v, want twice, the second after the failed Done", got)
	}
	if n := pendingOf(t, bolt); n != 0 {
		t.Errorf("Pending() = %d, want 0", n)
	}
	var takes, dones int
	for _, rec := range logs.records(t, "ERROR") {
		msg, _ := rec["msg"].(string)
		switch {
		case strings.Contains(msg, "take failed"):
			takes++
		case strings.Contains(msg, "done failed"):
			dones++
		}
	}
	if takes != 2 || dones != 1 {
		t.Errorf("the log has %d take failures and %d done failures, want 2 and 1:\n%s", takes, dones, logs.String())
	}
}
