package boltstore

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/storetest"
)

func TestLeaseConformance(t *testing.T) {
	storetest.RunLeaseTests(t, func(t *testing.T) replica.Leaser { return openTemp(t) })
}

// TestALeaseOutlivesAReopen: the lease is in the file, so a holder that
// reopens the store (a restart within the ttl) still holds it and no
// other takes it before it runs out.
func TestALeaseOutlivesAReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidents.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if held, err := s.Lead(t.Context(), "leader", "a", time.Hour); err != nil || !held {
		t.Fatalf("Lead(a) = %v, %v, want true, nil", held, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path)
	if held, err := s.Lead(t.Context(), "leader", "b", time.Hour); err != nil || held {
		t.Errorf("after a reopen, Lead(b) = %v, %v, want false, nil", held, err)
	}
	if held, err := s.Lead(t.Context(), "leader", "a", time.Hour); err != nil || !held {
		t.Errorf("after a reopen, Lead(a) = %v, %v, want true, nil", held, err)
	}
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
