package alertmanager

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/redisstore"
	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/redis/go-redis/v9"
)

// backend is a store that is both the incidents' Store and the Inbox.
type backend interface {
	incidents.Store
	inbox.Inbox
}

func boltBackend(t testing.TB) backend {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "breadcrumb.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func redisBackend(t testing.TB) backend {
	t.Helper()
	opts, prefix := redistest.Server(t)
	opts.PoolSize = 64
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return redisstore.New(c, redisstore.Options{Prefix: prefix})
}

// pipeline is the whole way in: the webhook over real HTTP, the inbox, a
// running Worker, the Processor and the Service.
type pipeline struct {
	*world
	inbox  inbox.Inbox
	worker *inbox.Worker
	srv    *httptest.Server
	// requests counts the requests the webhook answered 200.
	requests atomic.Int64
}

func newPipeline(t testing.TB, b backend, autoResolve bool) *pipeline {
	t.Helper()
	p := &pipeline{world: newWorldOver(b, nil), inbox: b}
	proc := NewProcessor(ProcessorConfig{Service: p.svc, AutoResolve: autoResolve})
	p.worker = inbox.NewWorker(b, map[string]inbox.Handler{Source: proc}, inbox.WorkerOptions{
		Poll: 20 * time.Millisecond, Lease: 30 * time.Second, Concurrency: 8,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.worker.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	mux := http.NewServeMux()
	h := NewWebhookHandler(WebhookConfig{Token: secret.New(testToken), Inbox: b, Kick: p.worker.Kick})
	mux.HandleFunc("POST "+Path, func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusOK {
			p.requests.Add(1)
		}
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// send posts every body concurrently from workers goroutines and fails
// on any answer but 200.
func (p *pipeline) send(t testing.TB, bodies [][]byte, workers int) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	next := make(chan []byte)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for range workers {
		wg.Go(func() {
			for b := range next {
				req, err := http.NewRequest(http.MethodPost, p.srv.URL+Path, bytes.NewReader(b))
				if err != nil {
					panic(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+testToken)
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					mu.Lock()
					failures = append(failures, fmt.Sprint(err, resp))
					mu.Unlock()
				}
			}
		})
	}
	for _, b := range bodies {
		next <- b
	}
	close(next)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d requests failed, the first: %s", len(failures), failures[0])
	}
}

// postAs posts one body with an Authorization header.
func (p *pipeline) postAs(t testing.TB, auth string, b []byte) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.srv.URL+Path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	return do(t, req)
}

// settle waits until the inbox is empty and the worker has finished what
// it took.
func (p *pipeline) settle(t testing.TB, processed uint64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := p.inbox.Pending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		st := p.worker.Stats()
		if n == 0 && st.Processed+st.Dropped >= processed {
			if st.Dropped > 0 || st.Failed > 0 {
				t.Fatalf("worker stats %+v, want no failure and no drop", st)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending, worker stats %+v, want %d processed", n, st, processed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// storm is a set of alert groups and the notifications Alertmanager sends
// about them: for each group, one with the first half of its alerts (at
// group_wait), one with all of them (at group_interval), and, when they
// resolve, one with all of them resolved.
type storm struct {
	groups, perGroup int
}

func (s storm) key(g int) string {
	return fmt.Sprintf(`{}:{alertname="Storm%02d", service="svc-%02d"}`, g, g)
}

func (s storm) alerts(g int, ends time.Time) []Alert {
	var out []Alert
	for i := range s.perGroup {
		out = append(out, testAlert(fmt.Sprintf("Storm%02d", g), fmt.Sprintf("node-%02d-%03d:9100", g, i), t0.Add(time.Duration(i)*time.Second), ends,
			map[string]string{"service": fmt.Sprintf("svc-%02d", g), "severity": "warning"}))
	}
	return out
}

func (s storm) firing(t testing.TB) (bodies [][]byte, distinct int) {
	for g := range s.groups {
		all := s.alerts(g, time.Time{})
		bodies = append(bodies, body(t, notification(s.key(g), all[:s.perGroup/2]...)), body(t, notification(s.key(g), all...)))
		distinct += 2
	}
	return bodies, distinct
}

func (s storm) resolved(t testing.TB) (bodies [][]byte, distinct int) {
	for g := range s.groups {
		bodies = append(bodies, body(t, notification(s.key(g), s.alerts(g, t0.Add(time.Hour))...)))
		distinct++
	}
	return bodies, distinct
}

// twiceShuffled sends every notification twice, in a random order.
func twiceShuffled(bodies [][]byte, seed uint64) [][]byte {
	out := append(slices.Clone(bodies), bodies...)
	r := rand.New(rand.NewPCG(seed, seed))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func TestAnAlertStormIsAbsorbed(t *testing.T) {
	for _, tt := range []struct {
		name    string
		backend func(testing.TB) backend
	}{
		{"over bbolt", boltBackend},
		{"over redis", redisBackend},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testStorm(t, newPipeline(t, tt.backend(t), true))
		})
	}
}

func testStorm(t *testing.T, p *pipeline) {
	s := storm{groups: 50, perGroup: 10}
	firing, n1 := s.firing(t)
	p.send(t, twiceShuffled(firing, 1), 32)
	p.settle(t, uint64(n1))
	// Each distinct notification is processed once: the copies stop at
	// the inbox.
	if got := p.worker.Stats().Processed; got != uint64(n1) {
		t.Errorf("got %d deliveries processed for %d distinct notifications sent twice, want %d", got, n1, n1)
	}

	list := p.incidents(t)
	if len(list) != s.groups {
		t.Fatalf("got %d incidents from %d groups, want %d", len(list), s.groups, s.groups)
	}
	writes := map[string]int{}
	for _, inc := range list {
		checkAlerts(t, p.world, inc, s.perGroup, incidents.EventAlertFired)
		if inc.Status != incidents.StatusTriggered || inc.Service == "" || inc.Refs[incidents.RefAlertmanagerGroup] == "" {
			t.Errorf("%s: got status %s, service %q, refs %v; want triggered with a service and a group", inc.ID, inc.Status, inc.Service, inc.Refs)
		}
		writes[inc.ID] = p.seen.of(inc.ID)
	}
	// A group makes at most one write for its declaration and one for each
	// distinct notification that adds alerts: 3 here. One write per
	// duplicate, or per alert, would be 5 or more.
	hist := histogram(writes)
	t.Logf("firing: change notifications per incident: %v (writes: incidents)", hist)
	for id, n := range writes {
		if n > 3 {
			t.Errorf("%s: got %d change notifications, want at most 3", id, n)
		}
	}

	resolved, n2 := s.resolved(t)
	p.send(t, twiceShuffled(resolved, 2), 32)
	p.settle(t, uint64(n1+n2))
	if got := p.worker.Stats().Processed; got != uint64(n1+n2) {
		t.Errorf("got %d deliveries processed, want %d", got, n1+n2)
	}
	list = p.incidents(t)
	if len(list) != s.groups {
		t.Fatalf("got %d incidents after the resolutions, want %d", len(list), s.groups)
	}
	for _, inc := range list {
		checkAlerts(t, p.world, inc, s.perGroup, incidents.EventAlertResolved)
		if inc.Status != incidents.StatusResolved {
			t.Errorf("%s: got status %s after every alert resolved, want resolved", inc.ID, inc.Status)
		}
		if got := countTypes(p.timeline(t, inc.ID))[incidents.EventStatusChanged]; got != 1 {
			t.Errorf("%s: got %d status changes, want 1", inc.ID, got)
		}
		// The resolutions add one write and the resolution one more.
		if n := p.seen.of(inc.ID) - writes[inc.ID]; n != 2 {
			t.Errorf("%s: got %d change notifications for the resolutions, want 2", inc.ID, n)
		}
	}
	t.Logf("total change notifications: %d for %d incidents", p.seen.total(), len(list))
}

// checkAlerts checks that inc holds want alerts in the state of typ and
// that its timeline has each alert's event of that type once.
func checkAlerts(t *testing.T, w *world, inc *incidents.Incident, want int, typ incidents.EventType) {
	t.Helper()
	status := map[incidents.EventType]string{incidents.EventAlertFired: "firing", incidents.EventAlertResolved: "resolved"}[typ]
	if len(inc.Alerts) != want {
		t.Errorf("%s: got %d alerts, want %d", inc.ID, len(inc.Alerts), want)
	}
	for _, st := range inc.Alerts {
		if st.Status != status {
			t.Errorf("%s: alert %s is %s, want %s", inc.ID, st.Fingerprint, st.Status, status)
		}
	}
	seen := map[string]int{}
	for _, e := range w.timeline(t, inc.ID) {
		if e.Type == typ {
			seen[e.Data["fingerprint"]]++
		}
	}
	if len(seen) != want {
		t.Errorf("%s: got %s events for %d alerts, want %d", inc.ID, typ, len(seen), want)
	}
	for fp, n := range seen {
		if n != 1 {
			t.Errorf("%s: alert %s has %d %s events, want 1", inc.ID, fp, n, typ)
		}
	}
}

// histogram turns counts per key into "count: keys with it".
func histogram(counts map[string]int) string {
	h := map[int]int{}
	for _, n := range counts {
		h[n]++
	}
	keys := make([]int, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	s := ""
	for _, k := range keys {
		s += fmt.Sprintf("%d: %d  ", k, h[k])
	}
	return s
}
