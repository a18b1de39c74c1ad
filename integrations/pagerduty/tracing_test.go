package pagerduty

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// TestAStoredDeliveryCarriesItsWebhooksTraceContext checks that the
// delivery taken from the bbolt inbox holds the traceparent of the
// request's span, so that the worker's span joins the trace; and that
// without a provider nothing is added to the delivery.
func TestAStoredDeliveryCarriesItsWebhooksTraceContext(t *testing.T) {
	body := readTestdata(t, "v3_incident.triggered.json")
	t.Run("with a provider, the span's context is stored", func(t *testing.T) {
		spans := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
		fx := newWebhookFixture(t, WebhookConfig{Secrets: secrets(webhookSecret), TracerProvider: tp}, boltstore.Options{})
		if status, _ := fx.post(t, bytes.NewReader(body), Sign(body, secret.New(webhookSecret))); status != http.StatusAccepted {
			t.Fatalf("got %d, want 202", status)
		}
		got, err := fx.inbox.Take(t.Context(), "test", 10, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatalf("got %d deliveries, %v; want 1", len(got), err)
		}
		ended := spans.GetSpans()
		if len(ended) != 1 || ended[0].Name != "webhook pagerduty" {
			t.Fatalf("got %d spans, want the webhook's", len(ended))
		}
		sc := ended[0].SpanContext
		want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
		if tp := got[0].Meta[inbox.TraceParentKey]; tp != want {
			t.Errorf("got traceparent %q, want %q", tp, want)
		}
		for _, kv := range ended[0].Attributes {
			if string(kv.Key) == "breadcrumb.webhook.outcome" && kv.Value.AsString() != "stored" {
				t.Errorf("got outcome %q, want stored", kv.Value.AsString())
			}
		}
	})
	t.Run("without a provider, nothing is stored", func(t *testing.T) {
		fx := newWebhookFixture(t, WebhookConfig{Secrets: secrets(webhookSecret)}, boltstore.Options{})
		if status, _ := fx.post(t, bytes.NewReader(body), Sign(body, secret.New(webhookSecret))); status != http.StatusAccepted {
			t.Fatalf("got %d, want 202", status)
		}
		got, err := fx.inbox.Take(t.Context(), "test", 10, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatalf("got %d deliveries, %v; want 1", len(got), err)
		}
		if tp, ok := got[0].Meta[inbox.TraceParentKey]; ok {
			t.Errorf("got traceparent %q, want none", tp)
		}
	})
}
