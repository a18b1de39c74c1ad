package redisstore

import (
	"slices"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
)

// TestReplayedWritesReturnTheirFirstResult sends each write script twice
// with the same op key, as go-redis does when a connection breaks after
// the command was sent: the second run must neither write again nor fail
// against the first one's effects.
func TestReplayedWritesReturnTheirFirstResult(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := t.Context()
	s := New(c, Options{Prefix: prefix})
	at := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	inc := &incidents.Incident{ID: "INC-1", Title: "t", Status: incidents.StatusTriggered, CreatedAt: at}
	ev := func(key string) incidents.Event {
		return incidents.Event{Key: key, Type: incidents.EventNote, At: at}
	}

	twice := func(name string, run func() (string, error)) string {
		t.Helper()
		first, err := run()
		if err != nil {
			t.Fatalf("%s = %v, want nil", name, err)
		}
		second, err := run()
		if err != nil || second != first {
			t.Fatalf("%s replayed = %q, %v, want %q, nil as the first time", name, second, err, first)
		}
		return first
	}

	// Create.
	w, err := s.prepareWrite(inc, 1, []incidents.Event{ev("a")})
	if err != nil {
		t.Fatal(err)
	}
	twice("Create", func() (string, error) { return s.runWrite(ctx, createScript, w.keys, w.args) })

	// Update from version 1.
	w, err = s.prepareWrite(inc, 2, []incidents.Event{ev("b"), ev("a")})
	if err != nil {
		t.Fatal(err)
	}
	args := slices.Insert(w.args, 5, any("1"), any("2"))
	if got := twice("Update", func() (string, error) { return s.runWrite(ctx, updateScript, w.keys, args) }); got != "2,0" {
		t.Errorf("Update's result = %q, want %q: b stored as 2, a left out", got, "2,0")
	}

	// Append.
	_, pairs, err := encodeEvents("INC-1", []incidents.Event{ev("c")})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{s.incKey("INC-1"), s.timelineKey("INC-1"), s.eventKeysKey("INC-1"), s.opKey()}
	args = append([]any{replayTTL.Milliseconds()}, pairs...)
	if got := twice("Append", func() (string, error) { return s.runWrite(ctx, appendScript, keys, args) }); got != "3" {
		t.Errorf("Append's result = %q, want %q", got, "3")
	}

	got, err := s.Get(ctx, "INC-1")
	if err != nil || got.Version != 2 {
		t.Errorf("after the replays, Get = version %v, %v, want 2", got, err)
	}
	evs, err := s.Events(ctx, "INC-1", 0, 0)
	if err != nil || len(evs) != 3 {
		t.Errorf("after the replays, Events = %d events, %v, want 3 (a, b, c)", len(evs), err)
	}
	ttl, err := c.PTTL(ctx, keys[3]).Result()
	if err != nil || ttl <= 0 || ttl > replayTTL {
		t.Errorf("the op key's TTL = %v, %v, want up to %v", ttl, err, replayTTL)
	}
}

func TestScriptErrorsMapToSentinels(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := t.Context()
	s := New(c, Options{Prefix: prefix})
	inc := &incidents.Incident{ID: "INC-1", Title: "t", Status: incidents.StatusTriggered}
	if err := s.Create(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	stale := inc.Clone()
	stale.Version = 7
	_, err := s.Update(ctx, stale, nil)
	const want = "redisstore: update INC-1: the stored version is 1, not 7: conflict"
	if err == nil || err.Error() != want {
		t.Errorf("Update(stale) = %v, want %q", err, want)
	}
	_, err = s.Append(ctx, "INC-2", nil)
	if err == nil || err.Error() != "redisstore: append INC-2: not found" {
		t.Errorf("Append(unknown) = %v, want %q", err, "redisstore: append INC-2: not found")
	}
}
