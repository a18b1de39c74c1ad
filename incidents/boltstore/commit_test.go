package boltstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// holdCommits makes s's committer wait inside a write until the returned
// release is called, once want more writes are queued behind it: those
// then go into one batch together, whatever the scheduler does.
func holdCommits(t *testing.T, s *Store) (waitQueued func(want int), release func()) {
	t.Helper()
	started, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.write(func(*bolt.Tx) (bool, error) {
			close(started)
			<-gate
			return false, nil
		})
	}()
	<-started
	waitQueued = func(want int) {
		t.Helper()
		stop := time.Now().Add(10 * time.Second)
		for {
			s.commits.mu.Lock()
			n := len(s.commits.queue)
			s.commits.mu.Unlock()
			if n >= want {
				return
			}
			if time.Now().After(stop) {
				t.Fatalf("%d writes queued within 10 s, want %d", n, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(gate)
			if err := <-done; err != nil {
				t.Errorf("the holding write = %v", err)
			}
		})
	}
	t.Cleanup(release)
	return waitQueued, release
}

// lastTx is the ID of the last committed transaction: it grows by one a
// commit.
func lastTx(t *testing.T, s *Store) int {
	t.Helper()
	var id int
	if err := s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

// putResult is what one Put returned.
type putResult struct {
	id     string
	stored bool
	err    error
}

func TestConcurrentPutsInOneBatchStoreEachDeliveryOnce(t *testing.T) {
	tests := []struct {
		name   string
		ids    int
		copies int
		// failing queues, among the Puts, writes that change the store
		// and then fail, so that the batch is rolled back and run again.
		failing int
		// panicking queues writes that panic after a change.
		panicking int
	}{
		{name: "distinct deliveries", ids: 40, copies: 1},
		{name: "every delivery three times", ids: 40, copies: 3},
		{name: "with writes that fail after a change", ids: 30, copies: 2, failing: 3},
		{name: "with writes that panic after a change", ids: 30, copies: 2, panicking: 2},
		{name: "more than one batch holds", ids: maxBatch + 50, copies: 2, failing: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openInbox(t, Options{})
			ctx := t.Context()
			before := lastTx(t, s)
			waitQueued, release := holdCommits(t, s)

			// The Puts, every copy of every delivery, with the failing
			// writes spread among them: -1 fails, -2 panics.
			var ops []int
			for range tt.copies {
				for i := range tt.ids {
					ops = append(ops, i)
				}
			}
			bad := tt.failing + tt.panicking
			for k := range bad {
				at := (k + 1) * len(ops) / (bad + 1)
				op := -1
				if k < tt.panicking {
					op = -2
				}
				ops = slices.Insert(ops, at, op)
			}
			results := make(chan putResult, len(ops))
			failures := make(chan error, bad)
			var wg sync.WaitGroup
			for queued, op := range ops {
				id := fmt.Sprintf("am:%04d", op)
				wg.Go(func() {
					if op >= 0 {
						stored, err := s.Put(ctx, inbox.Delivery{ID: id, Source: "alertmanager", Body: []byte(`{"n":"` + id + `"}`)})
						results <- putResult{id, stored, err}
						return
					}
					failures <- s.write(func(tx *bolt.Tx) (bool, error) {
						if err := tx.Bucket(bucketMeta).Put([]byte("marker"), []byte("a failed write")); err != nil {
							return false, err
						}
						if op == -2 {
							panic("a write panicked on purpose")
						}
						return true, errors.New("a write failed on purpose")
					})
				})
				waitQueued(queued + 1) // one after the other, in this order
			}
			release()
			wg.Wait()
			close(results)
			close(failures)

			for err := range failures {
				if err == nil || !strings.Contains(err.Error(), "on purpose") {
					t.Errorf("a failing write returned %v, want its own error", err)
				}
			}
			stored := map[string]int{}
			for r := range results {
				if r.err != nil {
					t.Errorf("Put(%s) = %v", r.id, r.err)
				}
				if r.stored {
					stored[r.id]++
				}
			}
			for i := range tt.ids {
				id := fmt.Sprintf("am:%04d", i)
				if stored[id] != 1 {
					t.Errorf("%d Puts of %s answered stored %d times, want once", tt.copies, id, stored[id])
				}
			}
			// The writes queued go maxBatch at a time, one commit for each
			// batch that stores a delivery; a failed write, run again alone,
			// commits nothing, and nor does a batch of repeated Puts.
			want, seen := 0, map[int]bool{}
			for from := 0; from < len(ops); from += maxBatch {
				stores := false
				for _, op := range ops[from:min(from+maxBatch, len(ops))] {
					stores = stores || (op >= 0 && !seen[op])
					seen[op] = true
				}
				if stores {
					want++
				}
			}
			if commits := lastTx(t, s) - before; commits != want {
				t.Errorf("the writes took %d commits, want %d: they were not committed together", commits, want)
			}
			checkInbox(t, s, tt.ids)
			if err := s.db.View(func(tx *bolt.Tx) error {
				if v := tx.Bucket(bucketMeta).Get([]byte("marker")); v != nil {
					t.Errorf("a failed write's change was committed: marker %q", v)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// checkInbox checks that s holds exactly n pending deliveries, am:0000 to
// am:n-1, each once and with its own body.
func checkInbox(t *testing.T, s *Store, n int) {
	t.Helper()
	pending, err := s.Pending(t.Context())
	if err != nil || pending != n {
		t.Errorf("Pending = %d, %v, want %d", pending, err, n)
	}
	taken, err := s.Take(t.Context(), "check", 2*n+1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range taken {
		if want := `{"n":"` + d.ID + `"}`; string(d.Body) != want {
			t.Errorf("delivery %s holds %q, want %q", d.ID, d.Body, want)
		}
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("am:%04d", i)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("Take handed out %d deliveries, want each of the %d once (first difference at %d)", len(ids), n, firstDiff(ids, want))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestAWriteThatFailsAloneReturnsItsOwnError(t *testing.T) {
	tests := []struct {
		name string
		fn   writeFunc
		want string
	}{
		{"an error", func(*bolt.Tx) (bool, error) { return false, errors.New("refused") }, "refused"},
		{"an error after a change", func(tx *bolt.Tx) (bool, error) {
			return true, errors.Join(tx.Bucket(bucketMeta).Put([]byte("marker"), []byte("x")), errors.New("refused"))
		}, "refused"},
		{"a panic", func(*bolt.Tx) (bool, error) { panic("boom") }, "a write panicked: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			before := lastTx(t, s)
			err := s.write(tt.fn)
			if err == nil || err.Error() != tt.want {
				t.Errorf("write = %v, want %q", err, tt.want)
			}
			if n := lastTx(t, s) - before; n != 0 {
				t.Errorf("a failed write committed %d transactions, want none", n)
			}
		})
	}
}

func TestAWriteThatChangesNothingCostsNoCommit(t *testing.T) {
	s := openInbox(t, Options{})
	ctx := t.Context()
	d := inbox.Delivery{ID: "am:1", Source: "alertmanager", Body: []byte("{}")}
	if stored, err := s.Put(ctx, d); err != nil || !stored {
		t.Fatalf("Put = %v, %v, want true, nil", stored, err)
	}
	before := lastTx(t, s)
	waitQueued, release := holdCommits(t, s)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if stored, err := s.Put(ctx, d); err != nil || stored {
				t.Errorf("Put of a pending delivery = %v, %v, want false, nil", stored, err)
			}
		})
		waitQueued(i + 1)
	}
	release()
	wg.Wait()
	if n := lastTx(t, s) - before; n != 0 {
		t.Errorf("10 repeated Puts committed %d transactions, want none", n)
	}
}

func TestCloseCommitsTheQueuedWritesAndRefusesLaterOnes(t *testing.T) {
	s, err := Open(t.TempDir()+"/incidents.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := s.path
	waitQueued, release := holdCommits(t, s)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			id := fmt.Sprintf("am:%04d", i)
			if stored, err := s.Put(t.Context(), inbox.Delivery{ID: id, Source: "alertmanager", Body: []byte(`{"n":"` + id + `"}`)}); err != nil || !stored {
				t.Errorf("Put(%s) queued before Close = %v, %v, want true, nil", id, stored, err)
			}
		})
		waitQueued(i + 1)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// Close waits for the held write, and refuses new ones meanwhile.
	for {
		s.commits.mu.Lock()
		closing := s.commits.closing
		s.commits.mu.Unlock()
		if closing {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := s.Put(t.Context(), inbox.Delivery{ID: "am:late", Source: "alertmanager", Body: []byte("{}")}); !errors.Is(err, berrors.ErrDatabaseNotOpen) {
		t.Errorf("Put after Close = %v, want ErrDatabaseNotOpen", err)
	}
	release()
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatalf("Close = %v", err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkInbox(t, s, 5)
}
