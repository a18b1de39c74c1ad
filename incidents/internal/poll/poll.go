// Package poll waits in tests for what should happen soon: a worker's
// delivery processed, an elector elected, a reminder posted.
package poll

import (
	"testing"
	"time"
)

// Within bounds Until: generous, so that a loaded machine is slow rather
// than failing.
const Within = 15 * time.Second

// Until polls cond every 5 ms until it holds, and fails the test when
// Within passes first, saying what did not happen.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s did not happen", Within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
