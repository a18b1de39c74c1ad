package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
)

// RunLeaseTests runs the suite of replica.Leaser against the leasers
// that open returns. Each subtest calls open once and expects a fresh
// leaser that holds no lease; open registers its cleanup with t.Cleanup.
// The subtests run one after the other, and wait out short leases by
// polling, never by assuming the machine's speed.
func RunLeaseTests(t *testing.T, open func(t *testing.T) replica.Leaser) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, l replica.Leaser)
	}{
		{"of two holders only the first leads", testLeaseOneHolder},
		{"of concurrent holders exactly one leads", testLeaseConcurrent},
		{"the holder's lead renews the lease for the new ttl", testLeaseRenewal},
		{"an expired lease goes to the next holder and the first learns it lost", testLeaseExpiry},
		{"resign hands the lease over at once", testLeaseResign},
		{"resign by another holder changes nothing", testLeaseResignOther},
		{"leases of different names are held apart", testLeaseNames},
		{"an empty name or holder or a ttl not above 0 is invalid", testLeaseInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, open(t))
		})
	}
}

func lead(t *testing.T, l replica.Leaser, name, holder string, ttl time.Duration) bool {
	t.Helper()
	held, err := l.Lead(t.Context(), name, holder, ttl)
	if err != nil {
		t.Fatalf("Lead(%s, %s, %v) = %v", name, holder, ttl, err)
	}
	return held
}

func checkLead(t *testing.T, l replica.Leaser, name, holder string, ttl time.Duration, want bool) {
	t.Helper()
	if got := lead(t, l, name, holder, ttl); got != want {
		t.Errorf("Lead(%s, %s, %v) = %v, want %v", name, holder, ttl, got, want)
	}
}

func resign(t *testing.T, l replica.Leaser, name, holder string) {
	t.Helper()
	if err := l.Resign(t.Context(), name, holder); err != nil {
		t.Fatalf("Resign(%s, %s) = %v", name, holder, err)
	}
}

func testLeaseOneHolder(t *testing.T, l replica.Leaser) {
	checkLead(t, l, "leader", "a", longLease, true)
	checkLead(t, l, "leader", "b", longLease, false)
	checkLead(t, l, "leader", "a", longLease, true)
	checkLead(t, l, "leader", "b", longLease, false)
}

func testLeaseConcurrent(t *testing.T, l replica.Leaser) {
	const holders = 16
	for round := range 5 {
		name := fmt.Sprintf("leader-%d", round)
		var won atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for h := range holders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				held, err := l.Lead(t.Context(), name, fmt.Sprintf("holder-%d", h), longLease)
				if err != nil {
					t.Error(err)
				}
				if held {
					won.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if got := won.Load(); got != 1 {
			t.Errorf("round %d: %d of %d concurrent holders lead, want 1", round, got, holders)
		}
	}
}

func testLeaseRenewal(t *testing.T, l replica.Leaser) {
	// A short lease renewed for a long ttl outlives its first ttl.
	checkLead(t, l, "leader", "a", shortLease, true)
	checkLead(t, l, "leader", "a", longLease, true)
	time.Sleep(3 * shortLease)
	checkLead(t, l, "leader", "b", longLease, false)
	checkLead(t, l, "leader", "a", longLease, true)
}

func testLeaseExpiry(t *testing.T, l replica.Leaser) {
	checkLead(t, l, "leader", "a", shortLease, true)
	deadline := time.Now().Add(waitFor)
	for !lead(t, l, "leader", "b", longLease) {
		if time.Now().After(deadline) {
			t.Fatalf("b does not lead %v after a's lease of %v", waitFor, shortLease)
		}
		time.Sleep(10 * time.Millisecond)
	}
	checkLead(t, l, "leader", "a", longLease, false)
	checkLead(t, l, "leader", "b", longLease, true)
}

func testLeaseResign(t *testing.T, l replica.Leaser) {
	checkLead(t, l, "leader", "a", longLease, true)
	checkLead(t, l, "leader", "b", longLease, false)
	resign(t, l, "leader", "a")
	checkLead(t, l, "leader", "b", longLease, true)
	checkLead(t, l, "leader", "a", longLease, false)
	// Resigning a lease nobody holds, or twice, changes nothing.
	resign(t, l, "never-taken", "a")
	resign(t, l, "leader", "b")
	resign(t, l, "leader", "b")
	checkLead(t, l, "leader", "a", longLease, true)
}

func testLeaseResignOther(t *testing.T, l replica.Leaser) {
	checkLead(t, l, "leader", "a", longLease, true)
	resign(t, l, "leader", "b")
	checkLead(t, l, "leader", "b", longLease, false)
	checkLead(t, l, "leader", "a", longLease, true)
}

func testLeaseNames(t *testing.T, l replica.Leaser) {
	checkLead(t, l, "sync", "a", longLease, true)
	checkLead(t, l, "reminders", "b", longLease, true)
	checkLead(t, l, "sync", "b", longLease, false)
	checkLead(t, l, "reminders", "a", longLease, false)
	resign(t, l, "sync", "a")
	checkLead(t, l, "reminders", "a", longLease, false)
}

func testLeaseInvalid(t *testing.T, l replica.Leaser) {
	for _, c := range []struct {
		name, holder string
		ttl          time.Duration
	}{{"", "a", longLease}, {"leader", "", longLease}, {"leader", "a", 0}, {"leader", "a", -time.Second}} {
		held, err := l.Lead(t.Context(), c.name, c.holder, c.ttl)
		if !errors.Is(err, incidents.ErrInvalid) || held {
			t.Errorf("Lead(%q, %q, %v) = %v, %v, want false, ErrInvalid", c.name, c.holder, c.ttl, held, err)
		}
	}
	for _, c := range [][2]string{{"", "a"}, {"leader", ""}} {
		if err := l.Resign(t.Context(), c[0], c[1]); !errors.Is(err, incidents.ErrInvalid) {
			t.Errorf("Resign(%q, %q) = %v, want ErrInvalid", c[0], c[1], err)
		}
	}
	// Nothing was taken by the invalid calls.
	checkLead(t, l, "leader", "b", longLease, true)
}
