package alertmanager

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// spanSeer records the span context each change reaches the observers
// with.
type spanSeer struct {
	mu   sync.Mutex
	seen []trace.SpanContext
}

func (s *spanSeer) Observe(ctx context.Context, _ *incidents.Incident, _ []incidents.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, trace.SpanContextFromContext(ctx))
}

func (s *spanSeer) all() []trace.SpanContext {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]trace.SpanContext(nil), s.seen...)
}

// TestAWebhooksTraceCrossesTheStoredInboxToTheObservers sends one
// notification through real HTTP, the inbox (bbolt, or Redis as replicas
// share it; the trace context is stored with the body), the Worker and
// the Processor, and finds one trace from the request to the incident
// service's observers.
func TestAWebhooksTraceCrossesTheStoredInboxToTheObservers(t *testing.T) {
	for _, tt := range []struct {
		name    string
		backend func(testing.TB) backend
	}{
		{"through the bbolt inbox", boltBackend},
		{"through the Redis inbox", redisBackend},
	} {
		t.Run(tt.name, func(t *testing.T) { traceThroughTheInbox(t, tt.backend(t)) })
	}
}

func traceThroughTheInbox(t *testing.T, b backend) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	w := newWorldOver(b, nil)
	seer := &spanSeer{}
	w.svc.Subscribe(seer)
	worker := inbox.NewWorker(b, map[string]inbox.Handler{Source: NewProcessor(ProcessorConfig{Service: w.svc})},
		inbox.WorkerOptions{Poll: 20 * time.Millisecond, TracerProvider: tp})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	srv := httptest.NewServer(NewWebhookHandler(WebhookConfig{Token: secret.New(testToken), Inbox: b, Kick: worker.Kick, TracerProvider: tp}))
	t.Cleanup(srv.Close)

	req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body(t, notification(checkoutGroup, checkoutAlert("a:80", time.Time{})))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for worker.Stats().Processed < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("got %+v after 10s, want the delivery processed", worker.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}

	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans.GetSpans() {
		byName[s.Name] = s
	}
	hook, ok := byName["webhook alertmanager"]
	if !ok {
		t.Fatalf("got spans %v, want one named %q", names(spans.GetSpans()), "webhook alertmanager")
	}
	proc, ok := byName["process delivery"]
	if !ok {
		t.Fatalf("got spans %v, want one named %q", names(spans.GetSpans()), "process delivery")
	}
	if proc.SpanContext.TraceID() != hook.SpanContext.TraceID() {
		t.Errorf("got the delivery processed in trace %s, want the webhook's trace %s", proc.SpanContext.TraceID(), hook.SpanContext.TraceID())
	}
	if proc.Parent.SpanID() != hook.SpanContext.SpanID() {
		t.Errorf("got the processing span's parent %s, want the webhook's span %s", proc.Parent.SpanID(), hook.SpanContext.SpanID())
	}
	if got := attr(hook, "breadcrumb.webhook.outcome"); got != "stored" {
		t.Errorf("got the webhook's outcome %q, want %q", got, "stored")
	}
	if got := attr(proc, "breadcrumb.delivery.source"); got != Source {
		t.Errorf("got the delivery's source %q, want %q", got, Source)
	}
	if got := attr(proc, "breadcrumb.delivery.attempt"); got != "1" {
		t.Errorf("got attempt %q, want %q", got, "1")
	}
	seen := seer.all()
	if len(seen) == 0 {
		t.Fatal("got no change observed, want the incident's declaration")
	}
	for _, sc := range seen {
		if sc.TraceID() != hook.SpanContext.TraceID() || sc.SpanID() != proc.SpanContext.SpanID() {
			t.Errorf("got a change observed under span %s/%s, want the processing span %s/%s", sc.TraceID(), sc.SpanID(), hook.SpanContext.TraceID(), proc.SpanContext.SpanID())
		}
	}
}

// TestAWebhookSpanSaysWhyARequestWasRefused checks the outcome recorded
// for refused requests, and that no trace context is stored for them.
func TestAWebhookSpanSaysWhyARequestWasRefused(t *testing.T) {
	tests := []struct {
		name, method, auth, body, want string
	}{
		{"a GET is method_not_allowed", http.MethodGet, "Bearer " + testToken, "", "method_not_allowed"},
		{"a wrong token is unauthorized", http.MethodPost, "Bearer nope", "{}", "unauthorized"},
		{"a body that is not JSON is bad_request", http.MethodPost, "Bearer " + testToken, "nope", "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
			h := NewWebhookHandler(WebhookConfig{Token: secret.New(testToken), Inbox: boltBackend(t), TracerProvider: tp})
			req := httptest.NewRequest(tt.method, Path, bytes.NewReader([]byte(tt.body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", tt.auth)
			h.ServeHTTP(httptest.NewRecorder(), req)
			got := spans.GetSpans()
			if len(got) != 1 || got[0].Name != "webhook alertmanager" {
				t.Fatalf("got spans %v, want one webhook span", names(got))
			}
			if o := attr(got[0], "breadcrumb.webhook.outcome"); o != tt.want {
				t.Errorf("got outcome %q, want %q", o, tt.want)
			}
		})
	}
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, 0, len(spans))
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

// BenchmarkWebhookRefusedWithoutTracing measures the handler's own cost
// on its shortest path (a request without the token, answered 401) with
// no TracerProvider set, the default: what tracing adds when it is off.
func BenchmarkWebhookRefusedWithoutTracing(b *testing.B) {
	h := NewWebhookHandler(WebhookConfig{Token: secret.New(testToken), Inbox: boltBackend(b)})
	req := httptest.NewRequest(http.MethodPost, Path, nil)
	req.Header.Set("Content-Type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
