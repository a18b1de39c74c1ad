// Package storetest is the conformance suite that every incidents.Store
// must pass, so that the embedded store, the Redis one and any in-memory
// fake behave alike (as go-cloud's drivertest does for its drivers).
//
// A store's own test calls RunConformanceTests with a function that opens
// a fresh, empty store and registers its cleanup with t.Cleanup:
//
//	func TestConformance(t *testing.T) {
//		storetest.RunConformanceTests(t, func(t *testing.T) incidents.Store {
//			s, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The subtests run one after the other, never in parallel, so a store
// backed by a shared server may empty it in open.
//
// Beyond the sentences of the Store contract, the suite holds stores to
// these rules, which the contract leaves implicit:
//
//   - Times are kept to the microsecond at least and come back in UTC
//     (time.Time.Location() == time.UTC): the suite writes times with
//     microseconds in another zone and compares instants with Equal. A store
//     may keep nanoseconds; one that keeps only milliseconds fails.
//   - A store keeps its own copy: changing an incident after Create, or one
//     returned by Get, changes nothing stored.
//   - A stored event carries its incident's ID and its Seq; everything else
//     (At, RecordedAt, Actor, Source, Text, Data) is kept as given. Stamping
//     RecordedAt is the Service's job, with its clock.
//   - An event whose Key appears twice in one batch is stored once: once
//     the first is stored, its key is in the timeline.
//   - Create's Version must be 0: any other is ErrInvalid.
//   - HasEvent on an unknown incident reports false or ErrNotFound, never
//     true.
//
// Durability ("a write that returned nil is durable") cannot be seen
// through the interface: each store proves it in its own tests (boltstore
// kills a writer with SIGKILL and reopens the file).
//
// RunInboxTests is the suite of inbox.Inbox, in the same manner: its
// open function gets the maximum of pending deliveries to configure.
// It waits out short leases by polling, never by assuming the machine's
// speed. It runs against an in-memory inbox too, and against inboxes
// that each break one rule, to prove that it catches them.
// BenchmarkInboxPut measures a Put of a 2 KiB body.
//
// BenchmarkAppend measures the latency of one Append, the store's most
// frequent write, for stores to call from their own benchmarks.
package storetest
