package replica_test

import (
	"testing"
	"time"
)

// waitFor bounds waitUntil: generous, so that a loaded machine is slow
// rather than failing.
const waitFor = 15 * time.Second

// waitUntil polls cond until it holds or waitFor passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s did not happen", waitFor, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
