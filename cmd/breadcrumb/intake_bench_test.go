package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/integrations/alertmanager"
)

// BenchmarkAlertmanagerIntake measures the answer to POST
// /webhooks/alertmanager at a steady rate, open loop: request i is sent at
// start + i/rate whether or not the earlier ones were answered, as
// Alertmanager's senders do. BREADCRUMB_BENCH_RATE (requests per second,
// default 200) and BREADCRUMB_BENCH_SECONDS (default 5) set the load. The
// bodies are the firing payloads of integrations/alertmanager/testdata,
// one group after another with its own key, labels and fingerprints; a
// group is notified once per alert, each notification holding one alert
// more, and every tenth notification is delivered twice (an HA pair).
//
// Three servers get the same requests on the same schedule, one after the
// other:
//
//   - synced-bbolt-write, the baseline: a bare HTTP handler that reads the
//     body and stores it in one synced bbolt transaction, the least a
//     durable answer costs;
//   - inbox-put: the real webhook handler over the real embedded inbox,
//     with no worker taking from it;
//   - serve: `breadcrumb serve` itself, embedded store in a temporary
//     directory, bundled runbooks, the inbox worker and the bot running.
//
// Each reports the p50, p99 and largest latency of the answers, and the
// answers other than 200. serve also reports the deliveries lost: once
// the inbox is empty the service is stopped and its store read, and every
// firing alert of a notification answered 200 must be in an incident, one
// incident per group.
func BenchmarkAlertmanagerIntake(b *testing.B) {
	rate, seconds := benchEnvInt(b, "BREADCRUMB_BENCH_RATE", 200), benchEnvInt(b, "BREADCRUMB_BENCH_SECONDS", 5)
	load := intakeLoad(b, rate*seconds)
	b.Run("synced-bbolt-write", func(b *testing.B) {
		intakeOverHTTP(b, load, rate, func(dir string) (http.Handler, io.Closer) {
			db, err := bolt.Open(filepath.Join(dir, "bare.db"), 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				if err == nil {
					err = db.Update(func(tx *bolt.Tx) error {
						bk, err := tx.CreateBucketIfNotExists([]byte("bodies"))
						if err != nil {
							return err
						}
						seq, _ := bk.NextSequence()
						return bk.Put(binary.BigEndian.AppendUint64(nil, seq), body)
					})
				}
				if err != nil {
					http.Error(w, err.Error(), http.StatusServiceUnavailable)
				}
			}), db
		})
	})
	b.Run("inbox-put", func(b *testing.B) {
		intakeOverHTTP(b, load, rate, func(dir string) (http.Handler, io.Closer) {
			st, err := boltstore.Open(filepath.Join(dir, "incidents.db"), boltstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return alertmanager.NewWebhookHandler(alertmanager.WebhookConfig{Inbox: st}), st
		})
	})
	b.Run("serve", func(b *testing.B) {
		for range b.N {
			dir := b.TempDir()
			s := startServe(b, map[string]string{
				"BREADCRUMB_LISTEN":   "127.0.0.1:0",
				"BREADCRUMB_DATA_DIR": dir,
			})
			answers := openLoop(s.url+"/webhooks/alertmanager", load.bodies, rate)
			reportAnswers(b, answers)
			s.waitInboxEmpty()
			s.stop()
			lost, doubled := load.check(b, filepath.Join(dir, "incidents.db"), answers)
			b.ReportMetric(float64(lost), "lost")
			b.ReportMetric(float64(doubled), "doubled")
		}
	})
}

// intakeOverHTTP serves the handler that open returns, over a store it
// opens in dir, on a test server, sends it the load and reports the
// answers.
func intakeOverHTTP(b *testing.B, load *intakeNotifications, rate int, open func(dir string) (http.Handler, io.Closer)) {
	for range b.N {
		h, store := open(b.TempDir())
		srv := httptest.NewServer(h)
		reportAnswers(b, openLoop(srv.URL, load.bodies, rate))
		srv.Close()
		_ = store.Close()
	}
}

// benchEnvInt reads a positive whole number from the environment.
func benchEnvInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a whole number above 0", name, v)
	}
	return n
}

// intakeNotifications are the requests of a benchmark run and what each
// reports.
type intakeNotifications struct {
	bodies [][]byte
	// group is the group key of each body, and firing the fingerprints
	// of its firing alerts.
	group  []string
	firing [][]string
}

// intakeLoad builds n notifications from the firing payloads in
// integrations/alertmanager/testdata.
func intakeLoad(b *testing.B, n int) *intakeNotifications {
	b.Helper()
	var templates []map[string]any
	for _, name := range []string{"several_alerts.json", "firing_and_resolved.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "integrations", "alertmanager", "testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		templates = append(templates, m)
	}
	out := &intakeNotifications{}
	for g := 0; len(out.bodies) < n; g++ {
		tmpl := templates[g%len(templates)]
		alerts := tmpl["alerts"].([]any)
		key := fmt.Sprintf(`{}/{team="bench"}:{service="svc-%05d"}`, g)
		for k := 1; k <= len(alerts) && len(out.bodies) < n; k++ {
			m := map[string]any{}
			for name, v := range tmpl {
				m[name] = v
			}
			m["groupKey"] = key
			m["groupLabels"] = map[string]string{"service": fmt.Sprintf("svc-%05d", g)}
			var list []any
			var firing []string
			for j, a := range alerts[:k] {
				alert := map[string]any{}
				for name, v := range a.(map[string]any) {
					alert[name] = v
				}
				labels := map[string]any{}
				for name, v := range alert["labels"].(map[string]any) {
					labels[name] = v
				}
				labels["instance"] = fmt.Sprintf("node-%05d-%d:9100", g, j)
				alert["labels"] = labels
				fp := fmt.Sprintf("%08x%08x", g, j)
				alert["fingerprint"] = fp
				if alert["status"] == "firing" {
					firing = append(firing, fp)
				}
				list = append(list, alert)
			}
			m["alerts"] = list
			body, err := json.Marshal(m)
			if err != nil {
				b.Fatal(err)
			}
			copies := 1
			if len(out.bodies)%10 == 9 {
				copies = 2 // an HA pair of Alertmanagers sends it twice
			}
			for range copies {
				if len(out.bodies) < n {
					out.bodies = append(out.bodies, body)
					out.group = append(out.group, key)
					out.firing = append(out.firing, firing)
				}
			}
		}
	}
	return out
}

// check reads the store at path and counts the firing alerts of the
// notifications answered 200 that no incident holds (lost), and the
// incidents and alerts there are too many of (doubled).
func (l *intakeNotifications) check(b *testing.B, path string, answers []intakeAnswer) (lost, doubled int) {
	b.Helper()
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	list, err := st.List(context.Background(), incidents.Filter{})
	if err != nil {
		b.Fatal(err)
	}
	byGroup := map[string]int{}
	held := map[string]int{}
	for _, inc := range list {
		byGroup[inc.Refs[incidents.RefAlertmanagerGroup]]++
		for _, a := range inc.Alerts {
			held[a.Fingerprint]++
		}
	}
	want := map[string]bool{}
	groups := map[string]bool{}
	for i, a := range answers {
		if a.status != http.StatusOK {
			continue
		}
		for _, fp := range l.firing[i] {
			want[fp] = true
			groups[l.group[i]] = true
		}
	}
	for fp := range want {
		if held[fp] == 0 {
			lost++
		}
	}
	for _, n := range held {
		doubled += n - 1
	}
	for g := range groups {
		doubled += max(byGroup[g]-1, 0)
	}
	if lost > 0 || doubled > 0 {
		b.Errorf("%d firing alerts lost and %d doubled, of %d alerts in %d groups answered 200", lost, doubled, len(want), len(groups))
	}
	return lost, doubled
}

// intakeAnswer is how one request went.
type intakeAnswer struct {
	status  int
	latency time.Duration
}

// openLoop posts bodies[i] to url at start + i/rate, each from its own
// goroutine, and returns every answer.
func openLoop(url string, bodies [][]byte, rate int) []intakeAnswer {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}}
	defer client.CloseIdleConnections()
	answers := make([]intakeAnswer, len(bodies))
	var wg sync.WaitGroup
	start := time.Now()
	for i, body := range bodies {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		wg.Go(func() {
			sent := time.Now()
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				answers[i] = intakeAnswer{status: -1, latency: time.Since(sent)}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answers[i] = intakeAnswer{status: resp.StatusCode, latency: time.Since(sent)}
		})
	}
	wg.Wait()
	return answers
}

// reportAnswers reports the latency percentiles and the answers other
// than 200.
func reportAnswers(b *testing.B, answers []intakeAnswer) {
	lat := make([]time.Duration, 0, len(answers))
	failed := 0
	for _, a := range answers {
		lat = append(lat, a.latency)
		if a.status != http.StatusOK {
			failed++
		}
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
	b.ReportMetric(float64(failed), "not-200")
}

// waitInboxEmpty polls /metrics until no delivery is pending.
func (s *service) waitInboxEmpty() {
	s.t.Helper()
	stop := time.Now().Add(2 * time.Minute)
	for time.Now().Before(stop) {
		for _, l := range strings.Split(s.get("/metrics", "text/plain"), "\n") {
			if l == "breadcrumb_inbox_pending 0" {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("deliveries still pending after 2 minutes")
}
