package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/storetest"
)

func TestBulletinConformance(t *testing.T) {
	storetest.RunBulletinTests(t, func(t *testing.T) replica.Bulletin { return openTemp(t) })
}

// TestAPublishedValueOutlivesAReopen: the board is in the file, so a
// restarted process reads what it published before.
func TestAPublishedValueOutlivesAReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidents.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(t.Context(), "runbooks:rev:payments", "abc"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path)
	if got, ok, err := s.Read(t.Context(), "runbooks:rev:payments"); err != nil || !ok || got != "abc" {
		t.Errorf("after a reopen, Read = %q, %v, %v, want abc, true, nil", got, ok, err)
	}
}
