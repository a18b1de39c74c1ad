package alertmanager

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// BenchmarkWebhook measures the webhook's answer, request to 200, over
// real HTTP into a bbolt inbox: a new notification (stored and synced to
// disk before the answer) and a repeated one (recognised, nothing
// written). It reports the p50 and p99 latency.
func BenchmarkWebhook(b *testing.B) {
	for _, bb := range []struct {
		name   string
		repeat bool
	}{{"new", false}, {"repeated", true}} {
		b.Run(bb.name, func(b *testing.B) {
			st := boltBackend(b)
			srv := newBenchServer(b, st)
			// A notification of 10 alerts, as in the storm.
			s := storm{groups: 1, perGroup: 10}
			alerts := s.alerts(0, time.Time{})
			client := &http.Client{}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				m := notification(s.key(0), alerts...)
				if !bb.repeat {
					m.GroupKey = fmt.Sprintf("%s-%d", m.GroupKey, i)
				}
				payload := body(b, m)
				req, err := http.NewRequest(http.MethodPost, srv, bytes.NewReader(payload))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+testToken)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				lat = append(lat, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("got %d, want 200", resp.StatusCode)
				}
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}

func newBenchServer(b *testing.B, inbox inbox.Inbox) string {
	srv := httptest.NewServer(NewWebhookHandler(WebhookConfig{Token: secret.New(testToken), Inbox: inbox}))
	b.Cleanup(srv.Close)
	return srv.URL
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkStorm measures the whole way in, end to end: 50 groups of 10
// alerts, each group's two notifications sent twice by 32 concurrent
// senders, through the webhook, the inbox, the Worker, the Processor and
// the Service, until the inbox is empty. It reports alerts per second.
func BenchmarkStorm(b *testing.B) {
	for _, bb := range []struct {
		name    string
		backend func(testing.TB) backend
	}{
		{"bbolt", boltBackend},
		{"redis", redisBackend},
	} {
		b.Run(bb.name, func(b *testing.B) {
			s := storm{groups: 50, perGroup: 10}
			firing, distinct := s.firing(b)
			bodies := twiceShuffled(firing, 1)
			var total time.Duration
			for range b.N {
				b.StopTimer()
				p := newPipeline(b, bb.backend(b), true)
				b.StartTimer()
				start := time.Now()
				p.send(b, bodies, 32)
				p.settle(b, uint64(distinct))
				total += time.Since(start)
				b.StopTimer()
				if n := len(p.incidents(b)); n != s.groups {
					b.Fatalf("got %d incidents, want %d", n, s.groups)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(s.groups*s.perGroup*b.N)/total.Seconds(), "alerts/s")
			b.ReportMetric(float64(len(bodies)*b.N)/total.Seconds(), "requests/s")
		})
	}
}
