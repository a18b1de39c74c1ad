package boltstore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/storetest"
)

// openTemp opens a store in a new file under t.TempDir and closes it at
// the end of the test.
func openTemp(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "incidents.db"), Options{})
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

func TestConformance(t *testing.T) {
	storetest.RunConformanceTests(t, func(t *testing.T) incidents.Store { return openTemp(t) })
}

func BenchmarkAppend(b *testing.B) {
	storetest.BenchmarkAppend(b, func(b *testing.B) incidents.Store { return openTemp(b) })
}

func TestEveryCommitIsSynced(t *testing.T) {
	s := openTemp(t)
	if s.db.NoSync {
		t.Errorf("the bbolt file has NoSync set: a write that returned nil would not be durable")
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidents.db")
	first, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("first Open = %v", err)
	}

	start := time.Now()
	second, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	elapsed := time.Since(start)
	if err == nil {
		second.Close()
		t.Fatalf("second Open of a file held open = nil error, want ErrLocked")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open = %v, want an error that is ErrLocked", err)
	}
	want := "the incident store " + path + " is in use by another process (is breadcrumb serve running?)"
	if got := err.Error(); got != want {
		t.Errorf("second Open's message = %q, want %q", got, want)
	}
	if elapsed > time.Second {
		t.Errorf("second Open with a 100ms timeout took %v, want well under 1s", elapsed)
	}

	if err := first.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	third, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after the holder closed = %v, want nil", err)
	}
	third.Close()
}

func TestOpenRejectsWhatIsNotAStore(t *testing.T) {
	dir := t.TempDir()
	notBolt := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notBolt, []byte(strings.Repeat("not a bolt file\n", 1024)), 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	db, err := bolt.Open(newer, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, u64(schema+1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, path, want string
	}{
		{"a file that is not a bolt file", notBolt, "invalid"},
		{"a file in a directory that does not exist", filepath.Join(dir, "missing", "incidents.db"), "no such file"},
		{"a store of a newer layout", newer, "layout 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path, Options{Timeout: 100 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatalf("Open = nil error, want one that mentions %q", tt.want)
			}
			if errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("Open = %v, want an error naming the file and %q, not ErrLocked", err, tt.want)
			}
		})
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "incidents.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 3, 14, 9, 26, 53, 589_793_123, time.UTC)
	inc := &incidents.Incident{
		ID: "INC-1", Title: "Checkout is slow", Status: incidents.StatusTriggered, Source: "alertmanager",
		Refs:      map[string]string{incidents.RefAlertmanagerGroup: "G1"},
		CreatedAt: created, UpdatedAt: created,
	}
	note := func(key string) incidents.Event {
		return incidents.Event{Key: key, Type: incidents.EventNote, At: created, Text: key}
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"create", func() error { return s.Create(ctx, inc, []incidents.Event{note("a")}) }},
		{"update", func() error {
			inc.Status = incidents.StatusAcknowledged
			_, err := s.Update(ctx, inc, []incidents.Event{note("b")})
			return err
		}},
		{"append", func() error { _, err := s.Append(ctx, "INC-1", []incidents.Event{note("c")}); return err }},
		{"claim", func() error { _, err := s.Claim(ctx, "delivery-1", time.Hour); return err }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen = %v", err)
	}
	defer s.Close()
	got, err := s.Get(ctx, "INC-1")
	if err != nil || got.Status != incidents.StatusAcknowledged || got.Version != 2 || !got.CreatedAt.Equal(created) {
		t.Errorf("Get after reopen = %+v, %v, want acknowledged, version 2, created %v to the nanosecond", got, err, created)
	}
	evs, err := s.Events(ctx, "INC-1", 0, 0)
	if gotKeys := eventKeys(evs); err != nil || !slices.Equal(gotKeys, []string{"a", "b", "c"}) {
		t.Errorf("Events after reopen = %q, %v, want [a b c]", gotKeys, err)
	}
	if found, err := s.FindByRef(ctx, incidents.RefAlertmanagerGroup, "G1"); err != nil || found.ID != "INC-1" {
		t.Errorf("FindByRef after reopen = %v, %v, want INC-1", found, err)
	}
	if list, err := s.List(ctx, incidents.Filter{Open: true}); err != nil || len(list) != 1 {
		t.Errorf("List after reopen = %d incidents, %v, want 1", len(list), err)
	}
	if first, err := s.Claim(ctx, "delivery-1", time.Hour); err != nil || first {
		t.Errorf("Claim of a key claimed before reopening = %t, %v, want false, nil", first, err)
	}
	// The next seq follows the last one stored before the reopen.
	if added, err := s.Append(ctx, "INC-1", []incidents.Event{note("d")}); err != nil || len(added) != 1 || added[0].Seq != 4 {
		t.Errorf("Append after reopen = %+v, %v, want d at seq 4", added, err)
	}
}

func TestUpdateKeepsReferencesInStep(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	a := &incidents.Incident{ID: "INC-A", Title: "a", Status: incidents.StatusTriggered,
		Refs: map[string]string{incidents.RefAlertmanagerGroup: "G1"}}
	b := &incidents.Incident{ID: "INC-B", Title: "b", Status: incidents.StatusTriggered,
		Refs: map[string]string{incidents.RefAlertmanagerGroup: "G2"}}
	for _, inc := range []*incidents.Incident{a, b} {
		if err := s.Create(ctx, inc, nil); err != nil {
			t.Fatal(err)
		}
	}

	// A gains a PagerDuty reference and changes its group.
	a.Refs = map[string]string{incidents.RefAlertmanagerGroup: "G3", incidents.RefPagerDutyIncident: "P1"}
	if _, err := s.Update(ctx, a, nil); err != nil {
		t.Fatalf("Update(INC-A) = %v", err)
	}
	// B may not take A's reference.
	b.Refs[incidents.RefPagerDutyIncident] = "P1"
	_, err := s.Update(ctx, b, nil)
	if !errors.Is(err, incidents.ErrConflict) {
		t.Errorf("Update(INC-B) with INC-A's reference = %v, want ErrConflict", err)
	}

	tests := []struct {
		kind, value, want string // want "" for ErrNotFound
	}{
		{incidents.RefAlertmanagerGroup, "G1", ""},
		{incidents.RefAlertmanagerGroup, "G3", "INC-A"},
		{incidents.RefPagerDutyIncident, "P1", "INC-A"},
		{incidents.RefAlertmanagerGroup, "G2", "INC-B"},
	}
	for _, tt := range tests {
		got, err := s.FindByRef(ctx, tt.kind, tt.value)
		switch {
		case tt.want == "" && !errors.Is(err, incidents.ErrNotFound):
			t.Errorf("FindByRef(%s) = %v, %v, want ErrNotFound", tt.value, got, err)
		case tt.want != "" && (err != nil || got.ID != tt.want):
			t.Errorf("FindByRef(%s) = %v, %v, want %s", tt.value, got, err, tt.want)
		}
	}
}

func TestErrorsNameTheOperationAndTheIncident(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	inc := &incidents.Incident{ID: "INC-1", Title: "t", Status: incidents.StatusTriggered}
	if err := s.Create(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	stale := inc.Clone()
	stale.Version = 7
	_, updateErr := s.Update(ctx, stale, nil)
	_, getErr := s.Get(ctx, "INC-2")
	_, appendErr := s.Append(ctx, "INC-1", []incidents.Event{{Key: "k"}})
	_, claimErr := s.Claim(ctx, "k", 0)

	tests := []struct {
		err  error
		want string
		is   error
	}{
		{updateErr, "boltstore: update INC-1: the stored version is 1, not 7: conflict", incidents.ErrConflict},
		{getErr, "boltstore: get INC-2: not found", incidents.ErrNotFound},
		{appendErr, "boltstore: append INC-1: event k has no type: invalid", incidents.ErrInvalid},
		{claimErr, `boltstore: claim k: a claim needs a key and a ttl above 0, got "k" and 0s: invalid`, incidents.ErrInvalid},
	}
	for _, tt := range tests {
		if tt.err == nil || tt.err.Error() != tt.want || !errors.Is(tt.err, tt.is) {
			t.Errorf("got error %v, want %q that is %v", tt.err, tt.want, tt.is)
		}
	}
}

func TestExpiredClaimsArePruned(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }

	for i := range 100 {
		if first, err := s.Claim(ctx, "old-"+string(rune('A'+i%26))+string(rune('a'+i/26)), time.Minute); err != nil || !first {
			t.Fatalf("Claim %d = %t, %v", i, first, err)
		}
	}
	now = now.Add(time.Hour)
	for i := range 2 { // each claim written prunes up to 64 expired ones
		if first, err := s.Claim(ctx, "new-"+string(rune('a'+i)), time.Minute); err != nil || !first {
			t.Fatalf("new Claim %d = %t, %v", i, first, err)
		}
	}

	var claims, expiries int
	err := s.db.View(func(tx *bolt.Tx) error {
		claims = tx.Bucket(bucketClaims).Stats().KeyN
		expiries = tx.Bucket(bucketClaimExpiry).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if claims != 2 || expiries != 2 {
		t.Errorf("after 100 claims expired and 2 new ones, %d claims and %d expiries are kept, want 2 and 2", claims, expiries)
	}
}

func eventKeys(evs []incidents.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Key)
	}
	return out
}
