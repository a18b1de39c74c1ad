package app

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The HTTP server sets no ReadTimeout: it would cut the console chat's
// long polls (a read deadline that passes while a handler runs cancels
// its request). A request's headers must arrive within headerTimeout;
// a request with a body must then send all of it within the body
// timeout, which the guard sets per request; a keep-alive connection
// that sends nothing for the idle timeout is closed.
const headerTimeout = 10 * time.Second

// The guard also bounds the requests in flight per class of route, so
// that one kind cannot starve another: slow console clients leave the
// webhooks their share, a storm of webhooks leaves the console and the
// probes theirs. A request that finds its class full waits up to
// classWait for a place, then gets 503 with Retry-After (which every
// sender retries).
const classWait = 2 * time.Second

// routeClass is a kind of route with its share of requests in flight.
type routeClass struct {
	name  string
	slots chan struct{}
}

// classLimits are the classes and their shares: webhooks (Alertmanager,
// PagerDuty and Slack), the JSON API, the console's pages and forms, the
// chat's long polls (one per open chat page), and the probes.
var classLimits = []struct {
	name string
	max  int
}{
	{"webhooks", 128},
	{"api", 64},
	{"console", 64},
	{"polls", 128},
	{"probes", 16},
}

// classify names the class of a request's path.
func classify(path string) string {
	switch {
	case strings.HasPrefix(path, "/webhooks/") || strings.HasPrefix(path, "/slack/"):
		return "webhooks"
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case path == "/chat/poll":
		return "polls"
	case path == "/healthz" || path == "/readyz" || path == "/metrics":
		return "probes"
	}
	return "console"
}

// guard wraps the service's routes with the limits above.
type guard struct {
	classes map[string]*routeClass
	// body is the time a request has to send its body, from the end of
	// its headers.
	body time.Duration
	// overloaded counts the requests refused for a full class.
	overloaded func(class string)
}

func newGuard(body time.Duration, overloaded func(class string)) *guard {
	g := &guard{classes: map[string]*routeClass{}, body: body, overloaded: overloaded}
	for _, c := range classLimits {
		g.classes[c.name] = &routeClass{name: c.name, slots: make(chan struct{}, c.max)}
	}
	return g
}

func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body's deadline is set first, so that it also bounds what
		// the server reads of an unread body after an early answer (a
		// 401, or the 503 below) to keep the connection.
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			// Where the connection cannot take a deadline (an HTTP/2
			// stream of a test server), the header timeout still holds.
			if rc.SetReadDeadline(time.Now().Add(g.body)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		c := g.classes[classify(r.URL.Path)]
		if !c.enter(r) {
			if r.Context().Err() != nil {
				return // the client left while waiting
			}
			if g.overloaded != nil {
				g.overloaded(c.name)
			}
			w.Header().Set("Retry-After", strconv.Itoa(int(classWait/time.Second)))
			w.Header().Set("Connection", "close")
			http.Error(w, "too many "+c.name+" requests in flight; retry shortly", http.StatusServiceUnavailable)
			return
		}
		defer c.leave()
		next.ServeHTTP(w, r)
	})
}

// enter takes a place in the class, waiting up to classWait.
func (c *routeClass) enter(r *http.Request) bool {
	select {
	case c.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(classWait)
	defer t.Stop()
	select {
	case c.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-r.Context().Done():
	}
	return false
}

func (c *routeClass) leave() { <-c.slots }

// deadlineBody lifts the body's read deadline once the body is read: the
// server then waits in the background for the connection's next request
// or its end, and a deadline passing while the handler still works
// would cancel the handler's context.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
