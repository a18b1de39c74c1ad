package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

const testToken = "am-webhook-token-5f1c9e"

// edge is the webhook handler served over real HTTP, over a bbolt inbox.
type edge struct {
	*world
	srv   *httptest.Server
	kicks atomic.Int64
	logs  *bytes.Buffer
}

func newEdge(t *testing.T, cfg WebhookConfig, opts boltstore.Options) *edge {
	t.Helper()
	e := &edge{world: newWorld(t, opts), logs: &bytes.Buffer{}}
	if cfg.Inbox == nil {
		cfg.Inbox = e.store
	}
	cfg.Kick = func() { e.kicks.Add(1) }
	cfg.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	mux.Handle(Path, NewWebhookHandler(cfg))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (e *edge) post(t testing.TB, auth string, b []byte) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+Path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func (e *edge) pending(t testing.TB) int {
	t.Helper()
	n, err := e.store.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func firingBody(t testing.TB) []byte {
	return body(t, notification(checkoutGroup, checkoutAlert("a:80", time.Time{})))
}

func TestWebhookRequiresTheBearerTokenWhenOneIsSet(t *testing.T) {
	tests := []struct {
		name  string
		token string // configured
		auth  string // sent
		want  int
	}{
		{"the right token is accepted", testToken, "Bearer " + testToken, http.StatusOK},
		{"the scheme is case-insensitive", testToken, "bearer " + testToken, http.StatusOK},
		{"a missing header is refused", testToken, "", http.StatusUnauthorized},
		{"a forged token is refused", testToken, "Bearer am-webhook-token-5f1c9f", http.StatusUnauthorized},
		{"a prefix of the token is refused", testToken, "Bearer " + testToken[:10], http.StatusUnauthorized},
		{"the token with more after it is refused", testToken, "Bearer " + testToken + "x", http.StatusUnauthorized},
		{"the token as basic credentials is refused", testToken, "Basic " + testToken, http.StatusUnauthorized},
		{"the bare token is refused", testToken, testToken, http.StatusUnauthorized},
		{"an empty bearer token is refused", testToken, "Bearer ", http.StatusUnauthorized},
		{"without a configured token any request is accepted", "", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEdge(t, WebhookConfig{Token: secret.New(tt.token)}, boltstore.Options{})
			r := e.post(t, tt.auth, firingBody(t))
			if r.status != tt.want {
				t.Fatalf("got %d %q, want %d", r.status, r.body, tt.want)
			}
			wantPending := 0
			if tt.want == http.StatusOK {
				wantPending = 1
			} else if r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("got no WWW-Authenticate header with the 401")
			}
			if got := e.pending(t); got != wantPending {
				t.Errorf("got %d pending deliveries, want %d", got, wantPending)
			}
			if strings.Contains(r.body+e.logs.String(), testToken[:10]) {
				t.Errorf("the token reached the answer or the log: %q %q", r.body, e.logs.String())
			}
		})
	}
}

func TestWebhookRefusesWhatIsNotANotification(t *testing.T) {
	noKey := notification("", checkoutAlert("a:80", time.Time{}))
	tests := []struct {
		name   string
		method string
		body   []byte
		want   int
		reason string
	}{
		{"GET is not allowed", http.MethodGet, nil, http.StatusMethodNotAllowed, "use POST"},
		{"PUT is not allowed", http.MethodPut, firingBody(t), http.StatusMethodNotAllowed, "use POST"},
		{"an empty body", http.MethodPost, nil, http.StatusBadRequest, "empty"},
		{"a body that is not JSON", http.MethodPost, []byte("<html>502</html>"), http.StatusBadRequest, "not valid JSON"},
		{"a webhook of another version", http.MethodPost, []byte(`{"version":"3","groupKey":"g","alerts":[]}`), http.StatusBadRequest, `unsupported webhook version "3"`},
		{"a notification without group key", http.MethodPost, body(t, noKey), http.StatusBadRequest, "groupKey"},
		{"a body over the limit", http.MethodPost, append(firingBody(t), bytes.Repeat([]byte(" "), 4096)...), http.StatusRequestEntityTooLarge, "larger than 2048 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEdge(t, WebhookConfig{Token: secret.New(testToken), MaxBody: 2048}, boltstore.Options{})
			req, err := http.NewRequest(tt.method, e.srv.URL+Path, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", "application/json")
			r := do(t, req)
			if r.status != tt.want || !strings.Contains(r.body, tt.reason) {
				t.Errorf("got %d %q, want %d saying %q", r.status, r.body, tt.want, tt.reason)
			}
			if tt.want == http.StatusMethodNotAllowed && r.header.Get("Allow") != http.MethodPost {
				t.Errorf("got Allow %q, want POST", r.header.Get("Allow"))
			}
			if got := e.pending(t); got != 0 {
				t.Errorf("got %d pending deliveries, want none", got)
			}
		})
	}
}

// Finding: the webhook took any Content-Type, so that, without a token,
// a web page could post a text/plain form to a local instance (which
// needs no CORS preflight) and open incidents.
func TestWebhookTakesOnlyABodySentAsJSON(t *testing.T) {
	for _, tc := range []struct {
		contentType string
		want        int
	}{
		{"application/json", http.StatusOK},
		{"application/json; charset=utf-8", http.StatusOK},
		{"Application/JSON", http.StatusOK},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"text/plain;charset=UTF-8", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{"", http.StatusUnsupportedMediaType},
		{"application/json-seq", http.StatusUnsupportedMediaType},
	} {
		e := newEdge(t, WebhookConfig{}, boltstore.Options{})
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+Path, bytes.NewReader(firingBody(t)))
		if err != nil {
			t.Fatal(err)
		}
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		r := do(t, req)
		if r.status != tc.want {
			t.Errorf("Content-Type %q: got %d %q, want %d", tc.contentType, r.status, r.body, tc.want)
		}
		wantPending := 0
		if tc.want == http.StatusOK {
			wantPending = 1
		}
		if got := e.pending(t); got != wantPending {
			t.Errorf("Content-Type %q: got %d pending deliveries, want %d", tc.contentType, got, wantPending)
		}
	}
}

func TestWebhookStoresADistinctNotificationOnce(t *testing.T) {
	e := newEdge(t, WebhookConfig{}, boltstore.Options{})
	a, b := checkoutAlert("a:80", time.Time{}), checkoutAlert("b:80", time.Time{})
	steps := []struct {
		name   string
		m      *Message
		stored bool
	}{
		{"the first notification is stored", notification(checkoutGroup, a), true},
		{"the same again is not", notification(checkoutGroup, a), false},
		{"an alert that joins makes another", notification(checkoutGroup, a, b), true},
		{"the same alerts in another order are the same", notification(checkoutGroup, b, a), false},
		{"an alert that resolves makes another", notification(checkoutGroup, checkoutAlert("a:80", t0.Add(time.Hour)), b), true},
		{"the same alerts in another group make another", notification("{}:{other}", a), true},
	}
	wantPending, wantKicks := 0, int64(0)
	for _, s := range steps {
		r := e.post(t, "", body(t, s.m))
		var got struct {
			Delivery string `json:"delivery"`
			Stored   bool   `json:"stored"`
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != http.StatusOK {
			t.Fatalf("%s: got %d %q, want 200 with JSON", s.name, r.status, r.body)
		}
		if got.Stored != s.stored || got.Delivery != DeliveryID(s.m) {
			t.Errorf("%s: got stored %v as %s, want %v as %s", s.name, got.Stored, got.Delivery, s.stored, DeliveryID(s.m))
		}
		if s.stored {
			wantPending++
			wantKicks++
		}
		if n := e.pending(t); n != wantPending {
			t.Errorf("%s: got %d pending, want %d", s.name, n, wantPending)
		}
		if n := e.kicks.Load(); n != wantKicks {
			t.Errorf("%s: got %d kicks, want %d", s.name, n, wantKicks)
		}
	}
	ds, err := e.store.Take(context.Background(), "test", 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Source != "alertmanager" || !strings.HasPrefix(d.Meta["order_key"], "alertmanager:") || !d.ReceivedAt.After(time.Now().Add(-time.Hour)) {
			t.Errorf("got delivery %s from %q, order key %q, received %v; want alertmanager's, keyed by group, received now", d.ID, d.Source, d.Meta["order_key"], d.ReceivedAt)
		}
	}
}

func TestDeliveryIDIgnoresWhatDoesNotChangeTheGroup(t *testing.T) {
	m := notification(checkoutGroup, checkoutAlert("a:80", time.Time{}))
	id := DeliveryID(m)
	same := notification(checkoutGroup, checkoutAlert("a:80", time.Time{}))
	same.AlertList[0].Annotations["summary"] = "a:80 is in deeper trouble"
	same.Receiver, same.NotificationReason = "other", "repeat"
	if got := DeliveryID(same); got != id {
		t.Errorf("got %s for a notification that differs in its annotations, want %s", got, id)
	}
	refired := notification(checkoutGroup, checkoutAlert("a:80", time.Time{}))
	refired.AlertList[0].StartsAt = t0.Add(time.Hour)
	noFP := notification(checkoutGroup, checkoutAlert("a:80", time.Time{}))
	noFP.AlertList[0].Fingerprint = ""
	noFP2 := notification(checkoutGroup, checkoutAlert("b:80", time.Time{}))
	noFP2.AlertList[0].Fingerprint = ""
	for name, other := range map[string]*Message{"a new start": refired, "no fingerprint": noFP} {
		if DeliveryID(other) == id {
			t.Errorf("%s: got the same ID, want another", name)
		}
	}
	if DeliveryID(noFP) == DeliveryID(noFP2) {
		t.Errorf("got one ID for alerts without fingerprint and with different labels, want two")
	}
	if !strings.HasPrefix(id, "alertmanager:") || len(id) != len("alertmanager:")+32 {
		t.Errorf("got ID %q, want alertmanager: and 32 hex digits", id)
	}
}

// failingInbox injects the failures of a store that is full or down.
type failingInbox struct {
	inbox.Inbox
	pending    int
	pendingErr error
	putErr     error
}

func (f failingInbox) Pending(context.Context) (int, error) { return f.pending, f.pendingErr }
func (f failingInbox) Put(context.Context, inbox.Delivery) (bool, error) {
	return false, f.putErr
}

func TestWebhookAnswers503NotA4xxWhenItCannotStore(t *testing.T) {
	errDisk := errors.New("disk I/O error")
	tests := []struct {
		name  string
		inbox inbox.Inbox
		max   int
		log   string
	}{
		{"an inbox at MaxPending", failingInbox{pending: 10}, 10, "overloaded"},
		{"an inbox over MaxPending", failingInbox{pending: 11}, 10, "overloaded"},
		{"an inbox that cannot count", failingInbox{pendingErr: errDisk}, 10, "disk I/O error"},
		{"a full inbox", failingInbox{putErr: inbox.ErrFull}, 0, "inbox full"},
		{"an inbox that fails", failingInbox{putErr: errDisk}, 10, "disk I/O error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEdge(t, WebhookConfig{Inbox: tt.inbox, MaxPending: tt.max, Token: secret.New(testToken)}, boltstore.Options{})
			r := e.post(t, "Bearer "+testToken, firingBody(t))
			if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
				t.Errorf("got %d with Retry-After %q, want 503 with one: Alertmanager retries only 5xx", r.status, r.header.Get("Retry-After"))
			}
			if !strings.Contains(e.logs.String(), tt.log) {
				t.Errorf("got log %q, want it to say %q", e.logs.String(), tt.log)
			}
			if strings.Contains(e.logs.String(), testToken) || e.kicks.Load() != 0 {
				t.Errorf("got log %q and %d kicks, want neither the token nor a kick", e.logs.String(), e.kicks.Load())
			}
		})
	}
}

func TestWebhookAnswers503WhenTheRealInboxIsFull(t *testing.T) {
	e := newEdge(t, WebhookConfig{}, boltstore.Options{InboxMaxPending: 1})
	if r := e.post(t, "", firingBody(t)); r.status != http.StatusOK {
		t.Fatalf("got %d %q, want 200", r.status, r.body)
	}
	if r := e.post(t, "", firingBody(t)); r.status != http.StatusOK {
		t.Errorf("got %d %q for a repeat while full, want 200: it is stored", r.status, r.body)
	}
	other := body(t, notification(checkoutGroup, checkoutAlert("b:80", time.Time{})))
	if r := e.post(t, "", other); r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("got %d %q, want 503 with Retry-After", r.status, r.body)
	}
}

func TestWebhookAcceptsAGroupAsLargeAsItsDefaultLimitAllows(t *testing.T) {
	e := newEdge(t, WebhookConfig{}, boltstore.Options{})
	var alerts []Alert
	for i := range incidents.MaxAlerts {
		alerts = append(alerts, checkoutAlert(strings.Repeat("x", 1000)+":"+time.Duration(i).String(), time.Time{}))
	}
	b := body(t, notification(checkoutGroup, alerts...))
	if len(b) > DefaultMaxBody {
		t.Fatalf("the test body is %d bytes, over %d", len(b), DefaultMaxBody)
	}
	if r := e.post(t, "", b); r.status != http.StatusOK {
		t.Errorf("got %d %q for %d alerts in %d bytes, want 200", r.status, r.body, len(alerts), len(b))
	}
}
