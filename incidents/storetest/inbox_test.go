package storetest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
)

// memInbox is the simplest inbox that passes the suite, and, given a
// defect, one that must fail it. It is not durable, so it is not for use.
type memInbox struct {
	mu      sync.Mutex
	max     int
	seq     int64
	pending map[string]*memEntry
	seen    map[string]bool
	defect  string
}

type memEntry struct {
	seq      int64
	d        inbox.Delivery
	until    time.Time
	attempts int
}

var _ inbox.Inbox = (*memInbox)(nil)

func newMemInbox(max int, defect string) *memInbox {
	return &memInbox{max: max, pending: map[string]*memEntry{}, seen: map[string]bool{}, defect: defect}
}

func (m *memInbox) Put(ctx context.Context, d inbox.Delivery) (bool, error) {
	if err := d.Validate(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[d.ID] || m.pending[d.ID] != nil {
		return false, nil
	}
	if len(m.pending) >= m.max && m.defect != "no-maximum" {
		return false, inbox.ErrFull
	}
	m.seq++
	c := d
	if m.defect != "shared-body" {
		c.Body = bytes.Clone(d.Body)
	}
	c.Meta = maps.Clone(d.Meta)
	c.ReceivedAt = d.ReceivedAt.UTC()
	c.Attempts = 0
	m.pending[d.ID] = &memEntry{seq: m.seq, d: c}
	m.seen[d.ID] = true
	return true, nil
}

func (m *memInbox) Take(ctx context.Context, consumer string, n int, lease time.Duration) ([]inbox.Delivery, error) {
	if consumer == "" || lease <= 0 {
		return nil, fmt.Errorf("mem: take: %w", incidents.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	entries := slices.Collect(maps.Values(m.pending))
	slices.SortFunc(entries, func(a, b *memEntry) int { return cmp.Compare(a.seq, b.seq) })
	if m.defect == "newest-first" {
		slices.Reverse(entries)
	}
	now := time.Now()
	out := []inbox.Delivery{}
	for _, e := range entries {
		if len(out) >= n {
			break
		}
		if now.Before(e.until) && m.defect != "leases-ignored" {
			continue
		}
		e.until = now.Add(lease)
		if m.defect != "attempts-not-counted" || e.attempts == 0 {
			e.attempts++
		}
		d := e.d
		d.Body, d.Meta, d.Attempts = bytes.Clone(d.Body), maps.Clone(d.Meta), e.attempts
		out = append(out, d)
	}
	return out, nil
}

func (m *memInbox) Done(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, id)
	if m.defect == "forgets-done-ids" {
		delete(m.seen, id)
	}
	return nil
}

func (m *memInbox) Pending(ctx context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending), nil
}

// envDefect names the defect of the inbox that TestABrokenInbox runs the
// suite against, in the child process of TestTheInboxSuiteCatchesDefects.
const envDefect = "STORETEST_INBOX_DEFECT"

func TestAnInMemoryInboxPassesTheSuite(t *testing.T) {
	RunInboxTests(t, func(t *testing.T, max int) inbox.Inbox { return newMemInbox(max, "") })
}

func TestABrokenInbox(t *testing.T) {
	defect := os.Getenv(envDefect)
	if defect == "" {
		t.Skip("runs in the child process of TestTheInboxSuiteCatchesDefects")
	}
	RunInboxTests(t, func(t *testing.T, max int) inbox.Inbox { return newMemInbox(max, defect) })
}

// TestTheInboxSuiteCatchesDefects runs the suite, in a child process,
// against inboxes that each break one rule, and checks that the subtest
// for that rule fails.
func TestTheInboxSuiteCatchesDefects(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite once per defect")
	}
	tests := []struct {
		defect  string
		failing string // a subtest that must fail
	}{
		{"forgets-done-ids", "done_removes_a_delivery_and_its_ID_stays_refused"},
		{"leases-ignored", "concurrent_takes_never_hand_one_leased_delivery_to_two_consumers"},
		{"attempts-not-counted", "an_expired_lease_hands_the_delivery_out_again_with_attempts_counted"},
		{"shared-body", "a_delivery_round-trips_exactly"},
		{"newest-first", "take_hands_deliveries_out_oldest_first,_each_once"},
		{"no-maximum", "a_full_inbox_refuses_new_deliveries_but_not_duplicates"},
	}
	for _, tt := range tests {
		t.Run(tt.defect, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestABrokenInbox$", "-test.v")
			cmd.Env = append(os.Environ(), envDefect+"="+tt.defect)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed an inbox whose defect is %s", tt.defect)
			}
			if want := "--- FAIL: TestABrokenInbox/" + tt.failing; !strings.Contains(string(out), want) {
				t.Errorf("the suite's output lacks %q:\n%s", want, out)
			}
		})
	}
}
