package app

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Finding: nothing bounded the requests in flight, so slow console
// clients could hold every connection the webhooks needed, or the
// other way round.
func TestAFullClassOfRoutesStarvesNoOther(t *testing.T) {
	release := make(chan struct{})
	var entered sync.WaitGroup
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Hold") != "" {
			entered.Done()
			<-release
		}
	})
	var overloaded []string
	g := newGuard(time.Minute, func(class string) { overloaded = append(overloaded, class) })
	srv := g.wrap(h)
	for _, full := range []struct{ path, class string }{{"/chat/say", "console"}, {"/webhooks/alertmanager", "webhooks"}} {
		t.Run(full.class, func(t *testing.T) {
			release = make(chan struct{})
			overloaded = nil
			max := cap(g.classes[full.class].slots)
			var done sync.WaitGroup
			entered.Add(max)
			for range max {
				done.Add(1)
				go func() {
					defer done.Done()
					req := httptest.NewRequest("POST", full.path, nil)
					req.Header.Set("X-Hold", "1")
					srv.ServeHTTP(httptest.NewRecorder(), req)
				}()
			}
			entered.Wait()
			for _, other := range []string{"/webhooks/pagerduty", "/slack/events", "/api/search", "/incidents", "/chat/poll", "/healthz", "/readyz"} {
				if classify(other) == full.class {
					continue
				}
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, httptest.NewRequest("GET", other, nil))
				if rec.Code != http.StatusOK {
					t.Errorf("%s while the %s are full: got %d, want 200", other, full.class, rec.Code)
				}
			}
			rec := httptest.NewRecorder()
			start := time.Now()
			srv.ServeHTTP(rec, httptest.NewRequest("POST", full.path, nil))
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("one more of the %s: got %d (Retry-After %q), want 503 with Retry-After", full.class, rec.Code, rec.Header().Get("Retry-After"))
			}
			if waited := time.Since(start); waited < classWait {
				t.Errorf("one more of the %s was refused after %v, before waiting %v for a place", full.class, waited, classWait)
			}
			if len(overloaded) != 1 || overloaded[0] != full.class {
				t.Errorf("counted as overloaded: %v, want [%s]", overloaded, full.class)
			}
			close(release)
			done.Wait()
			rec = httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("POST", full.path, nil))
			if rec.Code != http.StatusOK {
				t.Errorf("%s once the others finished: got %d, want 200", full.path, rec.Code)
			}
		})
	}
}
