package bot_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// benchWorld is a bot with 100 open incidents, each in its channel with
// the payments runbook attached.
func benchWorld(b *testing.B) (*world, []*incidents.Incident) {
	b.Helper()
	w := newWorld(b, bot.Config{})
	general := w.chat.CreateChannel("general", "")
	var open []*incidents.Incident
	for i := 0; i < 100; i++ {
		w.bot.Command(ctx, bot.Command{Name: "incident", Text: fmt.Sprintf("declare Incident %d sev3 runbook:%s", i, payments5xx),
			User: alice, Place: bot.Place{Channel: general.ID}, Key: w.key()})
	}
	w.bot.Flush()
	list, err := w.svc.List(ctx, incidents.Filter{Open: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, inc := range list {
		if inc.Home.Channel == "" {
			b.Fatalf("%s has no home", inc.ID)
		}
		open = append(open, inc)
	}
	if len(open) != 100 {
		b.Fatalf("got %d open incidents, want 100", len(open))
	}
	return w, open
}

// latencies reports the 50th and 99th percentiles of the durations.
func latencies(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	at := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkCommand measures how long a command takes to answer (what a
// chat adapter waits for before it acknowledges), with 100 open
// incidents.
func BenchmarkCommand(b *testing.B) {
	w, open := benchWorld(b)
	general, _ := w.chat.Channel("general")
	for _, tt := range []struct{ name, command, text string }{
		{"status", "incident", "status"},
		{"ack-outside-any-home", "incident", "ack"},
		{"note", "incident", "note checked the dashboards"},
		{"timeline", "incident", "timeline"},
		{"runbook", "runbook", "payments 500 errors"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			d := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				place := bot.Place{Channel: open[i%len(open)].Home.Channel}
				if tt.name == "ack-outside-any-home" {
					place.Channel = general.ID
				}
				start := time.Now()
				m := w.bot.Command(ctx, bot.Command{Name: tt.command, Text: tt.text, User: alice, Place: place, Key: w.key()})
				d = append(d, time.Since(start))
				if len(m.Blocks) == 0 {
					b.Fatalf("no answer to %s", tt.text)
				}
			}
			b.StopTimer()
			latencies(b, d)
			w.bot.Flush()
		})
	}
}

// BenchmarkClick measures how long a guided step's button takes to
// answer, with 100 open incidents: Done, then Back, so that every press
// changes the incident.
func BenchmarkClick(b *testing.B) {
	w, open := benchWorld(b)
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inc := open[i%len(open)]
		action, value := bot.ActionStepDone, inc.ID+"|1"
		if (i/len(open))%2 == 1 {
			action, value = bot.ActionStepBack, inc.ID+"|2"
		}
		start := time.Now()
		w.bot.Click(ctx, bot.Click{Action: action, Value: value, User: bob,
			Place: bot.Place{Channel: inc.Home.Channel}, Key: w.key()})
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	latencies(b, d)
	w.bot.Flush()
}
