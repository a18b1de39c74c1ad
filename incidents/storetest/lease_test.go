package storetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
)

// memLeaser is the simplest leaser that passes the suite, and, given a
// defect, one that must fail it.
type memLeaser struct {
	mu     sync.Mutex
	leases map[string]memLease
	defect string
}

type memLease struct {
	holder string
	until  time.Time
}

var _ replica.Leaser = (*memLeaser)(nil)

func newMemLeaser(defect string) *memLeaser {
	return &memLeaser{leases: map[string]memLease{}, defect: defect}
}

func (m *memLeaser) Lead(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, fmt.Errorf("mem: lead: %w", incidents.ErrInvalid)
	}
	if m.defect == "unlocked" {
		// Check, then set, without holding the lock across both.
		m.mu.Lock()
		cur, ok := m.leases[name]
		m.mu.Unlock()
		time.Sleep(time.Millisecond)
		if ok && cur.holder != holder {
			return false, nil
		}
		m.mu.Lock()
		m.leases[name] = memLease{holder, time.Now().Add(ttl)}
		m.mu.Unlock()
		return true, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	cur, ok := m.leases[name]
	expired := !now.Before(cur.until) && m.defect != "never-expires"
	switch {
	case !ok || expired:
	case cur.holder == holder:
		if m.defect == "renewal-keeps-ttl" {
			return true, nil
		}
	default:
		return false, nil
	}
	m.leases[name] = memLease{holder, now.Add(ttl)}
	return true, nil
}

func (m *memLeaser) Resign(ctx context.Context, name, holder string) error {
	if name == "" || holder == "" {
		return fmt.Errorf("mem: resign: %w", incidents.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.leases[name]; ok && (cur.holder == holder || m.defect == "anyone-resigns") {
		delete(m.leases, name)
	}
	return nil
}

// envLeaseDefect names the defect of the leaser that TestABrokenLeaser
// runs the suite against, in the child process of
// TestTheLeaseSuiteCatchesDefects.
const envLeaseDefect = "STORETEST_LEASE_DEFECT"

func TestAnInMemoryLeaserPassesTheSuite(t *testing.T) {
	RunLeaseTests(t, func(t *testing.T) replica.Leaser { return newMemLeaser("") })
}

func TestABrokenLeaser(t *testing.T) {
	defect := os.Getenv(envLeaseDefect)
	if defect == "" {
		t.Skip("runs in the child process of TestTheLeaseSuiteCatchesDefects")
	}
	RunLeaseTests(t, func(t *testing.T) replica.Leaser { return newMemLeaser(defect) })
}

// TestTheLeaseSuiteCatchesDefects runs the suite, in a child process,
// against leasers that each break one rule, and checks that the subtest
// for that rule fails.
func TestTheLeaseSuiteCatchesDefects(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite once per defect")
	}
	tests := []struct {
		defect  string
		failing string // a subtest that must fail
	}{
		{"never-expires", "an_expired_lease_goes_to_the_next_holder_and_the_first_learns_it_lost"},
		{"renewal-keeps-ttl", "the_holder's_lead_renews_the_lease_for_the_new_ttl"},
		{"anyone-resigns", "resign_by_another_holder_changes_nothing"},
		{"unlocked", "of_concurrent_holders_exactly_one_leads"},
	}
	for _, tt := range tests {
		t.Run(tt.defect, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestABrokenLeaser$", "-test.v")
			cmd.Env = append(os.Environ(), envLeaseDefect+"="+tt.defect)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a leaser whose defect is %s", tt.defect)
			}
			if want := "--- FAIL: TestABrokenLeaser/" + tt.failing; !strings.Contains(string(out), want) {
				t.Errorf("the suite's output lacks %q:\n%s", want, out)
			}
		})
	}
}
