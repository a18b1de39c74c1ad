package pagerduty

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

const (
	webhookSecret    = "whsec-QmFzZTY0IGlzIG5vdCBlbmNyeXB0aW9u"
	rotatedSecret    = "whsec-bmV3IHNlY3JldCBhZnRlciByb3RhdGlvbg"
	subscriptionID   = "PSUBSCR"
	webhookIDExample = "0d5c3e9f-93e3-4c3a-8f0f-2e5d3f6b1a70"
)

// webhookFixture is the handler, served over HTTP, in front of a bbolt
// inbox.
type webhookFixture struct {
	url   string
	inbox *boltstore.Store
	kicks atomic.Int32
	logs  *bytes.Buffer
}

func newWebhookFixture(t *testing.T, cfg WebhookConfig, opts boltstore.Options) *webhookFixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "inbox.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fx := &webhookFixture{inbox: st, logs: &bytes.Buffer{}}
	if cfg.Inbox == nil {
		cfg.Inbox = st
	}
	cfg.Kick = func() { fx.kicks.Add(1) }
	cfg.Logger = slog.New(slog.NewTextHandler(fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(NewWebhookHandler(cfg))
	t.Cleanup(srv.Close)
	fx.url = srv.URL + "/webhooks/pagerduty"
	return fx
}

// post sends body as PagerDuty does, with the given signature header ("" for
// none), and returns the status and the answer's body.
func (fx *webhookFixture) post(t *testing.T, body io.Reader, signature string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fx.url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "PagerDuty-Webhook/V3.0")
	req.Header.Set("X-Webhook-Id", webhookIDExample)
	req.Header.Set("X-Webhook-Subscription", subscriptionID)
	if signature != "" {
		req.Header.Set(SignatureHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (fx *webhookFixture) pending(t *testing.T) int {
	t.Helper()
	n, err := fx.inbox.Pending(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func secrets(s ...string) []secret.String {
	var out []secret.String
	for _, v := range s {
		out = append(out, secret.New(v))
	}
	return out
}

func TestWebhookStoresAnAuthenticDelivery(t *testing.T) {
	now := time.Date(2024, 5, 14, 3, 12, 10, 0, time.UTC)
	fx := newWebhookFixture(t, WebhookConfig{Secrets: secrets(webhookSecret), Now: func() time.Time { return now }}, boltstore.Options{})
	body := readTestdata(t, "v3_incident.triggered.json")
	status, _ := fx.post(t, bytes.NewReader(body), Sign(body, secret.New(webhookSecret)))
	if status != http.StatusAccepted {
		t.Fatalf("got %d, want 202", status)
	}
	got, err := fx.inbox.Take(t.Context(), "test", 10, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d deliveries, %v; want 1", len(got), err)
	}
	d := got[0]
	if d.ID != "pagerduty:01EVN6CUSDOHWYQ3M3D5IFVG4K" || d.Source != "pagerduty" || !bytes.Equal(d.Body, body) || !d.ReceivedAt.Equal(now) {
		t.Errorf("got delivery %s from %s at %v, want the event's ID, pagerduty, the raw body, received now", d.ID, d.Source, d.ReceivedAt)
	}
	want := map[string]string{"webhook_id": webhookIDExample, "webhook_subscription": subscriptionID,
		"order_key": "pagerduty:Q2K4FZ5M0ZP1AB", "event_type": "incident.triggered"}
	for k, v := range want {
		if d.Meta[k] != v {
			t.Errorf("got meta %s = %q, want %q", k, d.Meta[k], v)
		}
	}
	if n := fx.kicks.Load(); n != 1 {
		t.Errorf("got %d kicks, want 1", n)
	}
}

func TestWebhookAnswers(t *testing.T) {
	vector := readVectors(t)[0]
	triggered := readTestdata(t, "v3_incident.triggered.json")
	sign := func(b []byte, s ...string) string { return Sign(b, secrets(s...)...) }
	tampered := bytes.Replace(triggered, []byte(`"high"`), []byte(`"low"`), 1)
	big := append(bytes.Repeat([]byte(" "), 3<<20), triggered...)
	ping := []byte(`{"event":{"id":"01PING","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2024-05-14T03:00:00Z","agent":null,"client":null,"data":{"message":"Hello from your friend Pagey!","type":"ping"}}}`)
	malformed := []byte(`{"event":{"id":"E1","event_type":"incident.triggered",`)
	noIncident := []byte(`{"event":{"id":"E2","event_type":"incident.acknowledged","resource_type":"incident","data":{"type":"incident_note"}}}`)
	tests := []struct {
		name      string
		secrets   []secret.String
		body      io.Reader
		signature string
		status    int
		stored    int
		say       string // in the answer
	}{
		{"PagerDuty's own signed example is stored", secrets(vector.Secret), bytes.NewReader(readTestdata(t, vector.File)), vector.HeaderValue, 202, 1, ""},
		{"two signatures during a rotation, the new secret held, is stored", secrets(rotatedSecret), bytes.NewReader(triggered), sign(triggered, webhookSecret, rotatedSecret), 202, 1, ""},
		{"one signature, both secrets held during a rotation, is stored", secrets(webhookSecret, rotatedSecret), bytes.NewReader(triggered), sign(triggered, rotatedSecret), 202, 1, ""},
		{"a forged signature is forbidden", secrets(webhookSecret), bytes.NewReader(triggered), sign(triggered, "guessed"), 403, 0, "invalid signature"},
		{"a tampered body is forbidden", secrets(webhookSecret), bytes.NewReader(tampered), sign(triggered, webhookSecret), 403, 0, "invalid signature"},
		// Finding: a malformed signature got 401 where the docs say 403.
		{"a malformed signature is forbidden, as the docs say", secrets(webhookSecret), bytes.NewReader(triggered), "v1=" + strings.Repeat("zz", 32), 403, 0, "invalid signature"},
		{"a signature of another version only is forbidden", secrets(webhookSecret), bytes.NewReader(triggered), "v2=00ff", 403, 0, "invalid signature"},
		{"a missing signature is unauthorised", secrets(webhookSecret), bytes.NewReader(triggered), "", 401, 0, "missing X-PagerDuty-Signature"},
		{"no configured secret refuses everything", nil, bytes.NewReader(triggered), sign(triggered, webhookSecret), 403, 0, "not configured"},
		{"an oversized body is refused", secrets(webhookSecret), bytes.NewReader(big), sign(big, webhookSecret), 413, 0, "too large"},
		{"an oversized body of unknown length is refused", secrets(webhookSecret), io.MultiReader(bytes.NewReader(big)), sign(big, webhookSecret), 413, 0, "too large"},
		{"malformed JSON is a bad request that says why", secrets(webhookSecret), bytes.NewReader(malformed), sign(malformed, webhookSecret), 400, 0, "not valid JSON"},
		{"an incident event that names no incident is a bad request", secrets(webhookSecret), bytes.NewReader(noIncident), sign(noIncident, webhookSecret), 400, 0, "names no incident"},
		{"a ping is answered and not stored", secrets(webhookSecret), bytes.NewReader(ping), sign(ping, webhookSecret), 200, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newWebhookFixture(t, WebhookConfig{Secrets: tt.secrets}, boltstore.Options{})
			status, answer := fx.post(t, tt.body, tt.signature)
			if status != tt.status || !strings.Contains(answer, tt.say) {
				t.Errorf("got %d %q, want %d saying %q", status, answer, tt.status, tt.say)
			}
			if n := fx.pending(t); n != tt.stored {
				t.Errorf("got %d deliveries stored, want %d", n, tt.stored)
			}
			for _, s := range []string{webhookSecret, rotatedSecret, vector.Secret} {
				if strings.Contains(fx.logs.String()+answer, s) {
					t.Errorf("a secret reached the logs or the answer: %s", fx.logs.String())
				}
			}
		})
	}
}

func TestWebhookWithoutSecretsSaysWhatIsMissing(t *testing.T) {
	fx := newWebhookFixture(t, WebhookConfig{}, boltstore.Options{})
	body := readTestdata(t, "v3_incident.triggered.json")
	if status, _ := fx.post(t, bytes.NewReader(body), Sign(body, secret.New(webhookSecret))); status != 403 {
		t.Errorf("got %d, want 403", status)
	}
	if !strings.Contains(fx.logs.String(), "PAGERDUTY_WEBHOOK_SECRETS is unset") {
		t.Errorf("got logs %q, want them to name PAGERDUTY_WEBHOOK_SECRETS", fx.logs.String())
	}
}

func TestWebhookRefusesOtherMethods(t *testing.T) {
	fx := newWebhookFixture(t, WebhookConfig{Secrets: secrets(webhookSecret)}, boltstore.Options{})
	resp, err := http.Get(fx.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("got %d, Allow %q; want 405, POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestADuplicateDeliveryIsStoredOnce(t *testing.T) {
	noID := []byte(`{"event":{"event_type":"incident.acknowledged","resource_type":"incident","occurred_at":"2024-05-14T03:14:51Z","data":{"id":"Q2K4FZ5M0ZP1AB","type":"incident","title":"t"}}}`)
	for name, body := range map[string][]byte{
		"with an event ID":    readTestdata(t, "v3_incident.acknowledged.json"),
		"without an event ID": noID,
	} {
		t.Run(name, func(t *testing.T) {
			fx := newWebhookFixture(t, WebhookConfig{Secrets: secrets(webhookSecret)}, boltstore.Options{})
			sig := Sign(body, secret.New(webhookSecret))
			first, _ := fx.post(t, bytes.NewReader(body), sig)
			second, _ := fx.post(t, bytes.NewReader(body), sig)
			if first != 202 || second != 200 {
				t.Errorf("got %d then %d, want 202 then 200", first, second)
			}
			if n := fx.pending(t); n != 1 {
				t.Errorf("got %d deliveries, want 1", n)
			}
			if n := fx.kicks.Load(); n != 1 {
				t.Errorf("got %d kicks, want 1", n)
			}
		})
	}
}

func TestWebhookAnswers503WhenTheDeliveryCannotBeStored(t *testing.T) {
	body := readTestdata(t, "v3_incident.triggered.json")
	other := readTestdata(t, "v3_incident.acknowledged.json")
	t.Run("a full inbox", func(t *testing.T) {
		fx := newWebhookFixture(t, WebhookConfig{Secrets: secrets(webhookSecret)}, boltstore.Options{InboxMaxPending: 1})
		if status, _ := fx.post(t, bytes.NewReader(body), Sign(body, secret.New(webhookSecret))); status != 202 {
			t.Fatalf("got %d, want 202", status)
		}
		if status, _ := fx.post(t, bytes.NewReader(other), Sign(other, secret.New(webhookSecret))); status != 503 {
			t.Errorf("got %d, want 503", status)
		}
	})
	t.Run("a store that fails", func(t *testing.T) {
		fx := newWebhookFixture(t, WebhookConfig{Secrets: secrets(webhookSecret), Inbox: failingInbox{}}, boltstore.Options{})
		if status, _ := fx.post(t, bytes.NewReader(body), Sign(body, secret.New(webhookSecret))); status != 503 {
			t.Errorf("got %d, want 503", status)
		}
		if !strings.Contains(fx.logs.String(), "disk on fire") {
			t.Errorf("got logs %q, want the store's error", fx.logs.String())
		}
	})
}

// failingInbox injects a store failure.
type failingInbox struct{ inbox.Inbox }

func (failingInbox) Put(context.Context, inbox.Delivery) (bool, error) {
	return false, errors.New("disk on fire")
}

// FuzzWebhookHandler posts signed bodies of any shape: the handler never
// fails with a 5xx, and stores exactly the bodies DecodeWebhook accepts
// (pings aside).
func FuzzWebhookHandler(f *testing.F) {
	for _, name := range []string{"v3_incident.triggered.json", "v3_incident.annotated.json", "v3_service.updated.docs.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"event":{"event_type":"pagey.ping"}}`))
	f.Add([]byte(`{"event":{"event_type":"incident.x","data":{"incident":{"id":""}}}}`))
	st, err := boltstore.Open(filepath.Join(f.TempDir(), "inbox.db"), boltstore.Options{InboxMaxPending: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	key := secret.New(webhookSecret)
	h := NewWebhookHandler(WebhookConfig{Secrets: []secret.String{key}, Inbox: st, MaxBody: 1 << 16})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/pagerduty", bytes.NewReader(body))
		req.Header.Set(SignatureHeader, Sign(body, key))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		ev, err := DecodeWebhook(bytes.NewReader(body), 1<<16)
		switch {
		case rec.Code >= 500:
			t.Fatalf("got %d %s", rec.Code, rec.Body)
		case (rec.Code == 202 || rec.Code == 200) && err != nil:
			t.Fatalf("got %d for a body DecodeWebhook refuses: %v", rec.Code, err)
		case rec.Code == 400 && err == nil && !strings.HasPrefix(ev.EventType, "incident."):
			t.Fatalf("got 400 %s for a body DecodeWebhook accepts", rec.Body)
		}
	})
}
