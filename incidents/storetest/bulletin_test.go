package storetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
)

// memBulletin is the simplest bulletin that passes the suite, and, given
// a defect, one that must fail it.
type memBulletin struct {
	mu     sync.Mutex
	values map[string]string
	defect string
}

var _ replica.Bulletin = (*memBulletin)(nil)

func (m *memBulletin) Publish(ctx context.Context, key, value string) error {
	if key == "" && m.defect != "empty-key-accepted" {
		return fmt.Errorf("mem: publish: %w", incidents.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.values[key]; ok && m.defect == "first-publish-sticks" {
		return nil
	}
	if m.defect == "one-value-for-all" {
		key = "shared"
	}
	m.values[key] = value
	return nil
}

func (m *memBulletin) Read(ctx context.Context, key string) (string, bool, error) {
	if key == "" && m.defect != "empty-key-accepted" {
		return "", false, fmt.Errorf("mem: read: %w", incidents.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.defect == "one-value-for-all" {
		key = "shared"
	}
	v, ok := m.values[key]
	if m.defect == "empty-is-missing" {
		ok = v != ""
	}
	return v, ok, nil
}

// envBulletinDefect names the defect of the bulletin that
// TestABrokenBulletin runs the suite against, in the child process of
// TestTheBulletinSuiteCatchesDefects.
const envBulletinDefect = "STORETEST_BULLETIN_DEFECT"

func TestAnInMemoryBulletinPassesTheSuite(t *testing.T) {
	RunBulletinTests(t, func(t *testing.T) replica.Bulletin {
		return &memBulletin{values: map[string]string{}}
	})
}

func TestABrokenBulletin(t *testing.T) {
	defect := os.Getenv(envBulletinDefect)
	if defect == "" {
		t.Skip("runs in the child process of TestTheBulletinSuiteCatchesDefects")
	}
	RunBulletinTests(t, func(t *testing.T) replica.Bulletin {
		return &memBulletin{values: map[string]string{}, defect: defect}
	})
}

// TestTheBulletinSuiteCatchesDefects runs the suite, in a child process,
// against bulletins that each break one rule, and checks that the
// subtest for that rule fails.
func TestTheBulletinSuiteCatchesDefects(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite once per defect")
	}
	tests := []struct {
		defect  string
		failing string // a subtest that must fail
	}{
		{"first-publish-sticks", "a_second_publish_replaces_the_first"},
		{"empty-is-missing", "an_empty_value_is_published,_not_missing"},
		{"one-value-for-all", "keys_are_held_apart"},
		{"empty-key-accepted", "an_empty_key_is_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.defect, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestABrokenBulletin$", "-test.v")
			cmd.Env = append(os.Environ(), envBulletinDefect+"="+tt.defect)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a bulletin whose defect is %s", tt.defect)
			}
			if want := "--- FAIL: TestABrokenBulletin/" + tt.failing; !strings.Contains(string(out), want) {
				t.Errorf("the suite's output lacks %q:\n%s", want, out)
			}
		})
	}
}
