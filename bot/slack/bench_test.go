package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// BenchmarkAcknowledgement measures how long Slack waits for the HTTP
// transport's answer (p50 and p99 per request) to signed slash commands
// and button clicks, with the real bot over 100 open incidents. A command
// is answered with the bot's reply; a click is acknowledged and its work
// goes on behind.
func BenchmarkAcknowledgement(b *testing.B) {
	s := newStack(b)
	general := s.srv.AddChannel("general", false)
	for i := range 100 {
		out := s.command(s.alice, general, fmt.Sprintf("/incident declare Service %d outage sev2 runbook:%s", i, payments5xx))
		if !strings.Contains(out, "Declared") {
			b.Fatalf("declare %d: %s", i, out)
		}
	}
	open, err := s.svc.List(context.Background(), incidents.Filter{Open: true})
	if err != nil || len(open) != 100 {
		b.Fatalf("got %d open incidents (%v), want 100", len(open), err)
	}
	signedReq := func(path string, body []byte) *http.Request {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
		ts, sig := Sign(s.h.cfg.SigningSecret, time.Now(), body)
		r.Header.Set("X-Slack-Request-Timestamp", ts)
		r.Header.Set("X-Slack-Signature", sig)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	report := func(b *testing.B, lat []time.Duration) {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}

	b.Run("command", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; b.Loop(); i++ {
			inc := open[i%len(open)]
			body := []byte(url.Values{
				"command": {"/incident"}, "text": {"status"}, "user_id": {s.bob.ID}, "user_name": {"bob"},
				"channel_id": {inc.Home.Channel}, "trigger_id": {fmt.Sprintf("b%d.trigger", s.seq.Add(1))}, "response_url": {s.resp.URL},
			}.Encode())
			r := signedReq(CommandsPath, body)
			w := httptest.NewRecorder()
			start := time.Now()
			s.h.ServeHTTP(w, r)
			lat = append(lat, time.Since(start))
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), inc.ID) {
				b.Fatalf("got %d %s, want the status of %s", w.Code, w.Body, inc.ID)
			}
		}
		report(b, lat)
	})

	b.Run("click", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; b.Loop(); i++ {
			inc := open[i%len(open)]
			step := i/len(open)%8 + 1
			p, _ := json.Marshal(map[string]any{
				"type": "block_actions", "user": map[string]any{"id": s.bob.ID, "name": "bob"},
				"container":    map[string]any{"type": "message", "message_ts": inc.Home.Header, "channel_id": inc.Home.Channel},
				"trigger_id":   fmt.Sprintf("c%d.trigger", s.seq.Add(1)),
				"response_url": s.resp.URL,
				"actions":      []map[string]any{{"action_id": "step_done", "value": fmt.Sprintf("%s|%d", inc.ID, step), "type": "button", "action_ts": fmt.Sprintf("%d.%06d", time.Now().Unix(), i%1000000)}},
			})
			r := signedReq(InteractionsPath, interaction(p))
			w := httptest.NewRecorder()
			start := time.Now()
			s.h.ServeHTTP(w, r)
			lat = append(lat, time.Since(start))
			if w.Code != http.StatusOK {
				b.Fatalf("got %d %s", w.Code, w.Body)
			}
			if i%100 == 99 {
				b.StopTimer()
				s.settle()
				b.StartTimer()
			}
		}
		report(b, lat)
	})
}
