package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
)

// InboxMaxPending is the maximum of pending deliveries that the suite's
// open function must give the inboxes it opens for the subtests that ask
// for a small one (see RunInboxTests).
const InboxMaxPending = 5

// longLease is a lease that no subtest outlives, so that a delivery under
// it is certainly still leased.
const longLease = 10 * time.Minute

// shortLease is a lease that subtests wait out, by polling.
const shortLease = 150 * time.Millisecond

// waitFor is how long a subtest polls for what a short lease promises.
const waitFor = 15 * time.Second

// RunInboxTests runs the Inbox suite against the inboxes that open
// returns. Each subtest calls open once and expects a fresh, empty inbox
// with the default retention; maxPending is the largest number of pending
// deliveries it may hold, either InboxMaxPending or a number far above
// what any subtest puts. open registers the inbox's cleanup with
// t.Cleanup. The subtests run one after the other.
func RunInboxTests(t *testing.T, open func(t *testing.T, maxPending int) inbox.Inbox) {
	t.Helper()
	big := func(t *testing.T) inbox.Inbox { return open(t, 10_000) }
	tests := []struct {
		name string
		run  func(t *testing.T, in inbox.Inbox)
		open func(t *testing.T) inbox.Inbox
	}{
		{"put stores a delivery and a second put of its ID stores nothing", testInboxPutOnce, big},
		{"put refuses an invalid delivery and stores nothing", testInboxPutInvalid, big},
		{"take hands deliveries out oldest first, each once", testInboxTakeOrder, big},
		{"a delivery round-trips exactly", testInboxRoundTrip, big},
		{"take refuses an empty consumer or lease and gives nothing for n below 1", testInboxTakeArgs, big},
		{"a leased delivery is not handed out again while its lease runs", testInboxLeaseHolds, big},
		{"an expired lease hands the delivery out again with attempts counted", testInboxLeaseExpires, big},
		{"an expired delivery comes before newer ones", testInboxExpiredFirst, big},
		{"concurrent takes never hand one leased delivery to two consumers", testInboxConcurrentTakes, big},
		{"concurrent puts of one ID store it once", testInboxConcurrentPuts, big},
		{"done removes a delivery and its ID stays refused", testInboxDone, big},
		{"done of a delivery never taken removes it", testInboxDoneUntaken, big},
		{"pending counts the deliveries not done, leased or not", testInboxPending, big},
		{"a full inbox refuses new deliveries but not duplicates", testInboxFull, func(t *testing.T) inbox.Inbox { return open(t, InboxMaxPending) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, tt.open(t))
		})
	}
}

// delivery returns a delivery with the given ID and a body that names it.
func delivery(id string) inbox.Delivery {
	return inbox.Delivery{
		ID:         id,
		Source:     "alertmanager",
		Body:       []byte(`{"groupKey":"` + id + `"}`),
		ReceivedAt: t0,
	}
}

func mustPut(t *testing.T, in inbox.Inbox, d inbox.Delivery) {
	t.Helper()
	stored, err := in.Put(t.Context(), d)
	if err != nil || !stored {
		t.Fatalf("Put(%s) = %v, %v, want true, nil", d.ID, stored, err)
	}
}

func mustTake(t *testing.T, in inbox.Inbox, consumer string, n int, lease time.Duration) []inbox.Delivery {
	t.Helper()
	got, err := in.Take(t.Context(), consumer, n, lease)
	if err != nil {
		t.Fatalf("Take(%s, %d, %v) = %v", consumer, n, lease, err)
	}
	if got == nil {
		t.Fatalf("Take(%s, %d, %v) = nil, want a slice, empty or not", consumer, n, lease)
	}
	return got
}

func mustDone(t *testing.T, in inbox.Inbox, id string) {
	t.Helper()
	if err := in.Done(t.Context(), id); err != nil {
		t.Fatalf("Done(%s) = %v", id, err)
	}
}

func checkPending(t *testing.T, in inbox.Inbox, want int) {
	t.Helper()
	got, err := in.Pending(t.Context())
	if err != nil || got != want {
		t.Errorf("Pending() = %d, %v, want %d, nil", got, err, want)
	}
}

func deliveryIDs(ds []inbox.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func attempts(ds []inbox.Delivery) []int {
	out := make([]int, len(ds))
	for i, d := range ds {
		out[i] = d.Attempts
	}
	return out
}

// takeWithin polls Take until it returns at least one delivery or
// waitFor passes.
func takeWithin(t *testing.T, in inbox.Inbox, consumer string, n int, lease time.Duration) []inbox.Delivery {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		if got := mustTake(t, in, consumer, n, lease); len(got) > 0 || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testInboxPutOnce(t *testing.T, in inbox.Inbox) {
	first := delivery("am:1")
	mustPut(t, in, first)

	again := delivery("am:1")
	again.Source, again.Body = "pagerduty", []byte("another body")
	stored, err := in.Put(t.Context(), again)
	if err != nil || stored {
		t.Errorf("second Put(am:1) = %v, %v, want false, nil", stored, err)
	}
	checkPending(t, in, 1)
	got := mustTake(t, in, "c1", 10, longLease)
	if len(got) != 1 || got[0].Source != first.Source || !bytes.Equal(got[0].Body, first.Body) {
		t.Errorf("Take after two Puts of am:1 = %+v, want the first delivery only", got)
	}
}

func testInboxPutInvalid(t *testing.T, in inbox.Inbox) {
	tests := []struct {
		name string
		edit func(d *inbox.Delivery)
	}{
		{"a delivery without ID", func(d *inbox.Delivery) { d.ID = "" }},
		{"a delivery without source", func(d *inbox.Delivery) { d.Source = "" }},
		{"a delivery with an empty body", func(d *inbox.Delivery) { d.Body = []byte{} }},
		{"a delivery without body", func(d *inbox.Delivery) { d.Body = nil }},
		{"a delivery whose ID is too long", func(d *inbox.Delivery) { d.ID = strings.Repeat("x", inbox.MaxDeliveryIDLen+1) }},
	}
	for _, tt := range tests {
		d := delivery("am:1")
		tt.edit(&d)
		stored, err := in.Put(t.Context(), d)
		if stored || !errors.Is(err, incidents.ErrInvalid) {
			t.Errorf("Put of %s = %v, %v, want false and ErrInvalid", tt.name, stored, err)
		}
	}
	checkPending(t, in, 0)
	if got := mustTake(t, in, "c1", 10, longLease); len(got) != 0 {
		t.Errorf("Take after invalid Puts = %q, want none", deliveryIDs(got))
	}
	// The longest ID is valid.
	mustPut(t, in, delivery(strings.Repeat("x", inbox.MaxDeliveryIDLen)))
}

func testInboxTakeOrder(t *testing.T, in inbox.Inbox) {
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("am:%d", i)
		mustPut(t, in, delivery(id))
		want = append(want, id)
	}
	var got []inbox.Delivery
	got = append(got, mustTake(t, in, "c1", 2, longLease)...)
	got = append(got, mustTake(t, in, "c2", 3, longLease)...)
	got = append(got, mustTake(t, in, "c1", 10, longLease)...)
	if !slices.Equal(deliveryIDs(got), want) {
		t.Errorf("three Takes returned %q, want %q", deliveryIDs(got), want)
	}
	if a := attempts(got); slices.ContainsFunc(a, func(n int) bool { return n != 1 }) {
		t.Errorf("first Takes counted attempts %v, want 1 each", a)
	}
	if more := mustTake(t, in, "c3", 10, longLease); len(more) != 0 {
		t.Errorf("Take with every delivery leased = %q, want none", deliveryIDs(more))
	}
}

func testInboxRoundTrip(t *testing.T, in inbox.Inbox) {
	zone := time.FixedZone("UTC-7", -7*3600)
	body := []byte{'{', 0x00, 0xff, 0xfe, '\n', '"', '\\', 0xc3, 0x28, '}'} // not UTF-8, not JSON
	want := inbox.Delivery{
		ID:         "pagerduty:01ABC/é\x00x",
		Source:     "pagerduty",
		Body:       body,
		Meta:       map[string]string{"webhook_id": "PWH1", "order_key": "pd:Q1", "note": "ünïcode <&>", "empty": ""},
		ReceivedAt: time.Date(2025, 3, 14, 2, 26, 53, 589_793_238, zone),
	}
	d := want
	d.Body = slices.Clone(body)
	d.Meta = maps.Clone(want.Meta)
	d.Attempts = 7 // ignored
	mustPut(t, in, d)
	// The inbox keeps its own copy.
	d.Body[0], d.Meta["webhook_id"] = 'X', "changed"

	got := mustTake(t, in, "c1", 1, longLease)
	if len(got) != 1 {
		t.Fatalf("Take = %d deliveries, want 1", len(got))
	}
	g := got[0]
	if g.ID != want.ID || g.Source != want.Source {
		t.Errorf("got ID, Source %q, %q, want %q, %q", g.ID, g.Source, want.ID, want.Source)
	}
	if !bytes.Equal(g.Body, want.Body) {
		t.Errorf("got Body %q, want %q", g.Body, want.Body)
	}
	if !maps.Equal(g.Meta, want.Meta) {
		t.Errorf("got Meta %q, want %q", g.Meta, want.Meta)
	}
	if !g.ReceivedAt.Equal(want.ReceivedAt) || g.ReceivedAt.Location() != time.UTC {
		t.Errorf("got ReceivedAt %v, want %v in UTC", g.ReceivedAt, want.ReceivedAt.UTC())
	}
	if g.Attempts != 1 {
		t.Errorf("got Attempts %d, want 1", g.Attempts)
	}

	// No Meta comes back as none.
	mustPut(t, in, delivery("am:bare"))
	if got := mustTake(t, in, "c1", 1, longLease); len(got) != 1 || len(got[0].Meta) != 0 || !got[0].ReceivedAt.Equal(t0) {
		t.Errorf("Take of a delivery without Meta = %+v, want it with no Meta, received at %v", got, t0)
	}
}

func testInboxTakeArgs(t *testing.T, in inbox.Inbox) {
	mustPut(t, in, delivery("am:1"))
	tests := []struct {
		name     string
		consumer string
		lease    time.Duration
	}{
		{"an empty consumer", "", longLease},
		{"a zero lease", "c1", 0},
		{"a negative lease", "c1", -time.Second},
	}
	for _, tt := range tests {
		got, err := in.Take(t.Context(), tt.consumer, 1, tt.lease)
		if len(got) != 0 || !errors.Is(err, incidents.ErrInvalid) {
			t.Errorf("Take with %s = %q, %v, want none and ErrInvalid", tt.name, deliveryIDs(got), err)
		}
	}
	for _, n := range []int{0, -1} {
		if got := mustTake(t, in, "c1", n, longLease); len(got) != 0 {
			t.Errorf("Take(n=%d) = %q, want none", n, deliveryIDs(got))
		}
	}
	if got := mustTake(t, in, "c1", 1, longLease); !slices.Equal(deliveryIDs(got), []string{"am:1"}) || got[0].Attempts != 1 {
		t.Errorf("Take after the refused ones = %q with attempts %v, want [am:1] on its first attempt", deliveryIDs(got), attempts(got))
	}
}

func testInboxLeaseHolds(t *testing.T, in inbox.Inbox) {
	mustPut(t, in, delivery("am:1"))
	if got := mustTake(t, in, "c1", 1, longLease); len(got) != 1 {
		t.Fatalf("first Take = %q, want [am:1]", deliveryIDs(got))
	}
	for _, c := range []string{"c1", "c2"} {
		if got := mustTake(t, in, c, 10, time.Millisecond); len(got) != 0 {
			t.Errorf("Take by %s while am:1 is leased = %q, want none", c, deliveryIDs(got))
		}
	}
}

func testInboxLeaseExpires(t *testing.T, in inbox.Inbox) {
	mustPut(t, in, delivery("am:1"))
	if got := mustTake(t, in, "c1", 1, shortLease); len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("first Take = %q with attempts %v, want [am:1] with 1", deliveryIDs(got), attempts(got))
	}
	got := takeWithin(t, in, "c2", 10, shortLease)
	if !slices.Equal(deliveryIDs(got), []string{"am:1"}) || got[0].Attempts != 2 {
		t.Fatalf("Take by c2 after c1's lease ran out = %q with attempts %v, want [am:1] with 2", deliveryIDs(got), attempts(got))
	}
	got = takeWithin(t, in, "c1", 10, longLease)
	if !slices.Equal(deliveryIDs(got), []string{"am:1"}) || got[0].Attempts != 3 {
		t.Fatalf("Take by c1 after c2's lease ran out = %q with attempts %v, want [am:1] with 3", deliveryIDs(got), attempts(got))
	}
	if got := mustTake(t, in, "c2", 10, shortLease); len(got) != 0 {
		t.Errorf("Take by c2 under c1's long lease = %q, want none", deliveryIDs(got))
	}
	checkPending(t, in, 1)
}

func testInboxExpiredFirst(t *testing.T, in inbox.Inbox) {
	mustPut(t, in, delivery("am:1"))
	mustTake(t, in, "c1", 1, shortLease)
	mustPut(t, in, delivery("am:2"))
	mustPut(t, in, delivery("am:3"))
	time.Sleep(2 * shortLease) // at least that long: am:1's lease has run out
	got := mustTake(t, in, "c2", 10, longLease)
	if want := []string{"am:1", "am:2", "am:3"}; !slices.Equal(deliveryIDs(got), want) {
		t.Errorf("Take after am:1's lease ran out = %q, want %q", deliveryIDs(got), want)
	}
	if want := []int{2, 1, 1}; !slices.Equal(attempts(got), want) {
		t.Errorf("Take after am:1's lease ran out counted attempts %v, want %v", attempts(got), want)
	}
}

func testInboxConcurrentTakes(t *testing.T, in inbox.Inbox) {
	const total, consumers = 120, 6
	for i := range total {
		mustPut(t, in, delivery(fmt.Sprintf("am:%03d", i)))
	}
	var (
		mu     sync.Mutex
		owner  = map[string]string{}
		handed int
		dups   []string
		wg     sync.WaitGroup
		errs   = make(chan error, consumers)
	)
	for c := range consumers {
		name := fmt.Sprintf("c%d", c)
		wg.Go(func() {
			for {
				got, err := in.Take(t.Context(), name, 1+c%3, longLease)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				handed += len(got)
				if handed > 2*total { // an inbox that ignores leases never runs dry
					mu.Unlock()
					return
				}
				for _, d := range got {
					if prev, ok := owner[d.ID]; ok {
						dups = append(dups, fmt.Sprintf("%s to %s and %s", d.ID, prev, name))
					}
					owner[d.ID] = name
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Take = %v", err)
	}
	for _, d := range dups {
		t.Errorf("delivery %s while leased", d)
	}
	if len(owner) != total {
		t.Errorf("the consumers took %d distinct deliveries, want %d", len(owner), total)
	}
}

func testInboxConcurrentPuts(t *testing.T, in inbox.Inbox) {
	const puts = 8
	var wg sync.WaitGroup
	results := make(chan bool, puts)
	for range puts {
		wg.Go(func() {
			stored, err := in.Put(t.Context(), delivery("am:1"))
			if err != nil {
				t.Errorf("Put(am:1) = %v", err)
			}
			results <- stored
		})
	}
	wg.Wait()
	close(results)
	n := 0
	for stored := range results {
		if stored {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d concurrent Puts of am:1 stored it %d times, want once", puts, n)
	}
	checkPending(t, in, 1)
}

func testInboxDone(t *testing.T, in inbox.Inbox) {
	mustPut(t, in, delivery("am:1"))
	mustPut(t, in, delivery("am:2"))
	mustTake(t, in, "c1", 2, shortLease)
	mustDone(t, in, "am:1")
	checkPending(t, in, 1)

	stored, err := in.Put(t.Context(), delivery("am:1"))
	if err != nil || stored {
		t.Errorf("Put(am:1) after Done = %v, %v, want false, nil: the ID is kept for the retention", stored, err)
	}
	mustDone(t, in, "am:1")      // again
	mustDone(t, in, "am:absent") // never put
	checkPending(t, in, 1)

	// Only am:2 comes back once the lease runs out.
	got := takeWithin(t, in, "c2", 10, longLease)
	if !slices.Equal(deliveryIDs(got), []string{"am:2"}) {
		t.Errorf("Take after the lease ran out = %q, want [am:2]", deliveryIDs(got))
	}
	mustDone(t, in, "am:2")
	checkPending(t, in, 0)
	time.Sleep(2 * shortLease) // a lease that ran out must not bring a done delivery back
	if got := mustTake(t, in, "c2", 10, longLease); len(got) != 0 {
		t.Errorf("Take with everything done = %q, want none", deliveryIDs(got))
	}
}

func testInboxDoneUntaken(t *testing.T, in inbox.Inbox) {
	mustPut(t, in, delivery("am:1"))
	mustPut(t, in, delivery("am:2"))
	mustDone(t, in, "am:1")
	checkPending(t, in, 1)
	if got := mustTake(t, in, "c1", 10, longLease); !slices.Equal(deliveryIDs(got), []string{"am:2"}) {
		t.Errorf("Take after Done(am:1) = %q, want [am:2]", deliveryIDs(got))
	}
}

func testInboxPending(t *testing.T, in inbox.Inbox) {
	checkPending(t, in, 0)
	for i := range 3 {
		mustPut(t, in, delivery(fmt.Sprintf("am:%d", i)))
	}
	checkPending(t, in, 3)
	mustTake(t, in, "c1", 2, longLease)
	checkPending(t, in, 3)
	mustDone(t, in, "am:0")
	mustDone(t, in, "am:2") // not taken
	checkPending(t, in, 1)
}

func testInboxFull(t *testing.T, in inbox.Inbox) {
	for i := range InboxMaxPending {
		mustPut(t, in, delivery(fmt.Sprintf("am:%d", i)))
	}
	stored, err := in.Put(t.Context(), delivery("am:new"))
	if stored || !errors.Is(err, inbox.ErrFull) {
		t.Errorf("Put into a full inbox = %v, %v, want false and ErrFull", stored, err)
	}
	stored, err = in.Put(t.Context(), delivery("am:0"))
	if stored || err != nil {
		t.Errorf("Put of a duplicate into a full inbox = %v, %v, want false, nil", stored, err)
	}
	checkPending(t, in, InboxMaxPending)

	// A refused delivery is not remembered, and Done makes room.
	mustDone(t, in, "am:3")
	mustPut(t, in, delivery("am:new"))
	checkPending(t, in, InboxMaxPending)
	got := mustTake(t, in, "c1", 10, longLease)
	if want := []string{"am:0", "am:1", "am:2", "am:4", "am:new"}; !slices.Equal(deliveryIDs(got), want) {
		t.Errorf("Take = %q, want %q", deliveryIDs(got), want)
	}
}

// InboxBenchBodySize is the size of the body that BenchmarkInboxPut puts:
// about an Alertmanager notification of a few alerts.
const InboxBenchBodySize = 2048

// InboxBenchBody returns a body of InboxBenchBodySize bytes, for a
// baseline that writes the same payload.
func InboxBenchBody() []byte {
	line := `{"status":"firing","labels":{"alertname":"CheckoutLatencyHigh","service":"checkout","severity":"page"}},`
	return []byte(strings.Repeat(line, InboxBenchBodySize/len(line)+1)[:InboxBenchBodySize])
}

// BenchmarkInboxPut times b.N Puts of new deliveries with a body of
// InboxBenchBodySize bytes, the work a webhook waits for before its 2xx.
// Opening the inbox is not timed. Next to ns/op it reports the median
// and the 99th percentile of one Put's latency, in microseconds, as
// p50-µs and p99-µs. open must give an inbox that holds b.N deliveries.
func BenchmarkInboxPut(b *testing.B, open func(b *testing.B) inbox.Inbox) {
	ctx := b.Context()
	in := open(b)
	d := inbox.Delivery{
		Source:     "alertmanager",
		Body:       InboxBenchBody(),
		Meta:       map[string]string{"order_key": "alertmanager:{}:{alertname=\"CheckoutLatencyHigh\"}"},
		ReceivedAt: time.Now(),
	}
	latencies := make([]time.Duration, 0, 4096)
	i := 0
	for b.Loop() {
		i++
		d.ID = fmt.Sprintf("bench:%d", i)
		start := time.Now()
		stored, err := in.Put(ctx, d)
		latencies = append(latencies, time.Since(start))
		if err != nil || !stored {
			b.Fatalf("Put(%s) = %v, %v, want true, nil", d.ID, stored, err)
		}
	}
	slices.Sort(latencies)
	b.ReportMetric(micros(percentile(latencies, 0.50)), "p50-µs")
	b.ReportMetric(micros(percentile(latencies, 0.99)), "p99-µs")
}
