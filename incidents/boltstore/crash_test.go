package boltstore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// appenderEnv names the database file of TestHelperAppender; the helper
// does nothing without it.
const appenderEnv = "BOLTSTORE_TEST_APPENDER_DB"

const (
	crashIncident = "INC-CRASH"
	// killAfter is the number of acknowledged appends after which the
	// parent kills the child.
	killAfter = 300
)

// TestHelperAppender is not a test: TestAcknowledgedAppendsSurviveSIGKILL
// runs it in a child process, which appends events e1, e2, ... one at a
// time and prints each key only after Append returned, until it is
// killed (or a minute has passed, so that it always stops by itself).
func TestHelperAppender(t *testing.T) {
	path := os.Getenv(appenderEnv)
	if path == "" {
		t.Skip("a helper process of TestAcknowledgedAppendsSurviveSIGKILL")
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		os.Exit(2)
	}
	ctx := t.Context()
	s, err := Open(path, Options{})
	if err != nil {
		fail("open: %v", err)
	}
	inc := &incidents.Incident{ID: crashIncident, Title: "crash", Status: incidents.StatusTriggered, CreatedAt: time.Now()}
	if err := s.Create(ctx, inc, nil); err != nil {
		fail("create: %v", err)
	}
	text := strings.Repeat("x", 300)
	deadline := time.Now().Add(time.Minute)
	for i := 1; time.Now().Before(deadline); i++ {
		key := fmt.Sprintf("e%d", i)
		ev := incidents.Event{Key: key, Type: incidents.EventNote, At: time.Now(), Text: text}
		stored, err := s.Append(ctx, crashIncident, []incidents.Event{ev})
		if err != nil || len(stored) != 1 {
			fail("append %s: %d stored, %v", key, len(stored), err)
		}
		// os.Stdout is unbuffered: the key has left the process once
		// Fprintln returns.
		if _, err := fmt.Fprintln(os.Stdout, key); err != nil {
			fail("print %s: %v", key, err)
		}
	}
	fail("not killed within a minute")
}

// TestAcknowledgedAppendsSurviveSIGKILL kills a process that is appending
// and checks that every append it acknowledged is in the file. SIGKILL
// leaves the page cache intact, so this proves that an acknowledged
// append was committed before Append returned and that the file opens
// whole after an abrupt stop; that the commit also reached the disk is
// bbolt's fsync (TestEveryCommitIsSynced checks it is on).
func TestAcknowledgedAppendsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "incidents.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAppender$", "-test.count=1")
	cmd.Env = append(os.Environ(), appenderEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// However the child behaves, it is gone within 30 s.
	watchdog := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer watchdog.Stop()

	var acked []string
	killed := false
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		key := lines.Text()
		if !strings.HasPrefix(key, "e") {
			continue // the test binary's own output
		}
		acked = append(acked, key)
		if len(acked) == killAfter && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("SIGKILL: %v", err)
			}
			killed = true
		}
	}
	// A key printed before the kill and read after it was acknowledged too.
	err = cmd.Wait()
	var exit *exec.ExitError
	if !killed || !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v after %d acknowledged appends, want it killed after %d; its stderr:\n%s", err, len(acked), killAfter, stderr.Bytes())
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after SIGKILL = %v", err)
	}
	defer s.Close()
	err = s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check after SIGKILL: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(t.Context(), crashIncident, 0, 0)
	if err != nil {
		t.Fatalf("Events after SIGKILL = %v", err)
	}

	// The child appended e1, e2, ... in order, so the timeline must be
	// exactly e1..en at seqs 1..n: each acknowledged key, plus at most the
	// one whose Append returned but whose key was not printed yet.
	for i, e := range evs {
		if want := fmt.Sprintf("e%d", i+1); e.Key != want || e.Seq != int64(i+1) {
			t.Fatalf("event %d is %s at seq %d, want %s at seq %d", i, e.Key, e.Seq, want, i+1)
		}
	}
	if len(evs) < len(acked) {
		t.Fatalf("%d appends were acknowledged and %d survived: lost %q", len(acked), len(evs), acked[len(evs):])
	}
	if len(evs) > len(acked)+1 {
		t.Errorf("%d appends were acknowledged and %d stored, want at most one more", len(acked), len(evs))
	}
	t.Logf("killed after %d acknowledged appends; %d stored", len(acked), len(evs))
}
