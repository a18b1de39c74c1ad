package storetest

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// BenchmarkAppend times b.N Appends of one new event each to one
// incident, the store's most frequent write (a note, a pinned message, an
// alert). Opening the store and creating the incident are not timed. Next
// to ns/op it reports the median and the 99th percentile of one Append's
// latency, in microseconds, as p50-µs and p99-µs: for a store that
// syncs every write, the tail is what a Slack user waits for.
//
// A store calls it from its own benchmark:
//
//	func BenchmarkAppend(b *testing.B) {
//		storetest.BenchmarkAppend(b, func(b *testing.B) incidents.Store { ... })
//	}
func BenchmarkAppend(b *testing.B, open func(b *testing.B) incidents.Store) {
	ctx := b.Context()
	s := open(b)
	const id = "INC-BENCH"
	if err := s.Create(ctx, newIncident(id, time.Now()), nil); err != nil {
		b.Fatalf("Create = %v", err)
	}
	ev := incidents.Event{
		Type:   incidents.EventNote,
		Actor:  "U0BENCH",
		Source: "slack",
		Text:   strings.Repeat("The card processor answers in 2.4 s; failing over. ", 3),
		Data:   map[string]string{"url": "https://example.slack.com/archives/C0/p1741940813589793"},
	}
	batch := make([]incidents.Event, 1)
	latencies := make([]time.Duration, 0, 4096)

	i := 0
	for b.Loop() {
		i++
		ev.Key = "bench-" + strconv.Itoa(i)
		ev.At = time.Now()
		ev.RecordedAt = ev.At
		batch[0] = ev
		start := time.Now()
		got, err := s.Append(ctx, id, batch)
		latencies = append(latencies, time.Since(start))
		if err != nil || len(got) != 1 {
			b.Fatalf("Append(%s) = %d events, %v, want 1, nil", ev.Key, len(got), err)
		}
	}

	slices.Sort(latencies)
	b.ReportMetric(micros(percentile(latencies, 0.50)), "p50-µs")
	b.ReportMetric(micros(percentile(latencies, 0.99)), "p99-µs")
}

// percentile returns the p-quantile of sorted by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(float64(len(sorted))*p)) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
