package boltstore

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/storetest"
)

// openInbox opens a store with the inbox options under t.TempDir and
// closes it at the end of the test.
func openInbox(tb testing.TB, opts Options) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "incidents.db"), opts)
	if err != nil {
		tb.Fatalf("Open = %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close = %v", err)
		}
	})
	return s
}

func TestInboxConformance(t *testing.T) {
	storetest.RunInboxTests(t, func(t *testing.T, maxPending int) inbox.Inbox {
		return openInbox(t, Options{InboxMaxPending: maxPending})
	})
}

func BenchmarkInboxPut(b *testing.B) {
	storetest.BenchmarkInboxPut(b, func(b *testing.B) inbox.Inbox { return openInbox(b, Options{}) })
}

// fakeNow sets s's clock to a time that the test moves by hand.
func fakeNow(s *Store) func(d time.Duration) {
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	return func(d time.Duration) { now = now.Add(d) }
}

func TestInboxForgetsAnIDAfterTheRetention(t *testing.T) {
	s := openInbox(t, Options{InboxRetention: time.Hour})
	advance := fakeNow(s)
	ctx := t.Context()
	d := inbox.Delivery{ID: "am:1", Source: "alertmanager", Body: []byte("{}")}
	if stored, err := s.Put(ctx, d); err != nil || !stored {
		t.Fatalf("Put(am:1) = %v, %v, want true, nil", stored, err)
	}
	if err := s.Done(ctx, "am:1"); err != nil {
		t.Fatal(err)
	}
	advance(time.Hour - time.Nanosecond)
	if stored, err := s.Put(ctx, d); err != nil || stored {
		t.Errorf("Put(am:1) just within the retention = %v, %v, want false, nil", stored, err)
	}
	advance(time.Nanosecond)
	if stored, err := s.Put(ctx, d); err != nil || !stored {
		t.Errorf("Put(am:1) once the retention passed = %v, %v, want true, nil", stored, err)
	}
}

func TestInboxKeepsAPendingIDPastTheRetention(t *testing.T) {
	s := openInbox(t, Options{InboxRetention: time.Hour})
	advance := fakeNow(s)
	ctx := t.Context()
	d := inbox.Delivery{ID: "am:1", Source: "alertmanager", Body: []byte("{}")}
	if stored, err := s.Put(ctx, d); err != nil || !stored {
		t.Fatalf("Put(am:1) = %v, %v, want true, nil", stored, err)
	}
	advance(48 * time.Hour)
	// Another Put prunes the expired IDs; am:1 is still pending.
	if _, err := s.Put(ctx, inbox.Delivery{ID: "am:2", Source: "alertmanager", Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if stored, err := s.Put(ctx, d); err != nil || stored {
		t.Errorf("Put(am:1) while it is pending, past the retention = %v, %v, want false, nil", stored, err)
	}
	if n, err := s.Pending(ctx); err != nil || n != 2 {
		t.Errorf("Pending() = %d, %v, want 2, nil", n, err)
	}
}

func TestInboxPrunesExpiredIDs(t *testing.T) {
	s := openInbox(t, Options{InboxRetention: time.Hour})
	advance := fakeNow(s)
	ctx := t.Context()
	const old = 100
	for i := range old {
		id := "old:" + strconv.Itoa(i)
		if _, err := s.Put(ctx, inbox.Delivery{ID: id, Source: "alertmanager", Body: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
		if err := s.Done(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	advance(2 * time.Hour)
	for i := range 2 { // each Put forgets up to 64
		if _, err := s.Put(ctx, inbox.Delivery{ID: "new:" + strconv.Itoa(i), Source: "alertmanager", Body: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	var seen, order int
	err := s.db.View(func(tx *bolt.Tx) error {
		seen = tx.Bucket(bucketInboxSeen).Stats().KeyN
		order = tx.Bucket(bucketInboxSeenOrder).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != 2 || order != 2 {
		t.Errorf("after the retention and two Puts, %d IDs are seen and %d in order, want the 2 new ones", seen, order)
	}
}

func TestInboxLeaseFollowsTheClock(t *testing.T) {
	s := openInbox(t, Options{})
	advance := fakeNow(s)
	ctx := t.Context()
	if _, err := s.Put(ctx, inbox.Delivery{ID: "am:1", Source: "alertmanager", Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	take := func() []inbox.Delivery {
		got, err := s.Take(ctx, "c1", 1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := take(); len(got) != 1 {
		t.Fatalf("first Take = %d deliveries, want 1", len(got))
	}
	advance(time.Minute - time.Nanosecond)
	if got := take(); len(got) != 0 {
		t.Errorf("Take just before the lease ends = %d deliveries, want 0", len(got))
	}
	advance(time.Nanosecond)
	if got := take(); len(got) != 1 || got[0].Attempts != 2 {
		t.Errorf("Take when the lease ends = %+v, want am:1 on its second attempt", got)
	}
}

func TestInboxSurvivesAReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidents.db")
	ctx := t.Context()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"am:1", "am:2", "am:3"} {
		if _, err := s.Put(ctx, inbox.Delivery{ID: id, Source: "alertmanager", Body: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Take(ctx, "c1", 1, time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(ctx, "am:2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after Close = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if n, err := s.Pending(ctx); err != nil || n != 2 {
		t.Errorf("Pending() after a reopen = %d, %v, want 2, nil", n, err)
	}
	if stored, err := s.Put(ctx, inbox.Delivery{ID: "am:2", Source: "alertmanager", Body: []byte("again")}); err != nil || stored {
		t.Errorf("Put(am:2) after a reopen = %v, %v, want false, nil", stored, err)
	}
	got, err := s.Take(ctx, "c2", 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "am:1" || got[0].Attempts != 2 || got[1].ID != "am:3" || got[1].Attempts != 1 {
		t.Errorf("Take after a reopen = %+v, want am:1 (attempt 2) and am:3 (attempt 1)", got)
	}
}

func TestInboxDefaults(t *testing.T) {
	s := openInbox(t, Options{})
	if s.inboxRetention != DefaultInboxRetention || s.inboxMaxPending != DefaultInboxMaxPending {
		t.Errorf("Open with no inbox options: retention %v, max %d, want %v, %d",
			s.inboxRetention, s.inboxMaxPending, DefaultInboxRetention, DefaultInboxMaxPending)
	}
}

func TestAReopenReleasesTheLeasesOfTheProcessThatDied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidents.db")
	ctx := t.Context()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"am:1", "am:2"} {
		if _, err := s.Put(ctx, inbox.Delivery{ID: id, Source: "alertmanager", Body: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Take(ctx, "dead", 1, time.Hour); err != nil || len(got) != 1 {
		t.Fatalf("Take = %v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	got, err := s.Take(ctx, "alive", 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "am:1" || got[0].Attempts != 2 {
		t.Errorf("Take after a reopen = %+v, want am:1 at once (attempt 2, its hour-long lease released), then am:2", got)
	}
}
