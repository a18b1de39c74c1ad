package slack

import (
	"context"
	"net/http"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/slack/slacktestx"
)

// spansNamed returns the recorded spans called name, in the order they
// ended.
func spansNamed(spans tracetest.SpanStubs, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func attrOf(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

// TestAQueuedUpdatesCallIsTracedUnderTheSpanThatQueuedIt queues an
// update, which returns before it is sent, and finds its chat.update
// span, sent later from the outbox's goroutine, a child of the span the
// update was queued under; a rate-limited first try shows as its own
// span with the 429.
func TestAQueuedUpdatesCallIsTracedUnderTheSpanThatQueuedIt(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	c, srv, _ := newChat(t, ChatConfig{Outbox: OutboxConfig{TracerProvider: tp}})
	ch := srv.AddChannel("inc-trace", false)

	ctx, change := tp.Tracer("test").Start(context.Background(), "incident change")
	ref, err := c.Post(ctx, bot.Place{Channel: ch}, hello("v1"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Fail("chat.update", slacktestx.Fault{Status: http.StatusTooManyRequests, RetryAfter: 2})
	if err := c.Update(ctx, ref, hello("v2 with alert text")); err != nil {
		t.Fatal(err)
	}
	change.End()
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	updates := spansNamed(spans.GetSpans(), "slack chat.update")
	if len(updates) != 2 {
		t.Fatalf("got %d chat.update spans, want 2 (the 429 and the update that went through)", len(updates))
	}
	for i, u := range updates {
		if u.Parent.SpanID() != change.SpanContext().SpanID() || u.SpanContext.TraceID() != change.SpanContext().TraceID() {
			t.Errorf("got try %d's parent %s/%s, want the queuing span %s/%s", i+1, u.Parent.TraceID(), u.Parent.SpanID(), change.SpanContext().TraceID(), change.SpanContext().SpanID())
		}
		if got := attrOf(u, "slack.channel"); got != ch {
			t.Errorf("got channel %q on try %d, want %q", got, i+1, ch)
		}
		for _, kv := range u.Attributes {
			if kv.Value.String() == "v2 with alert text" {
				t.Errorf("got the message's text in attribute %s, want no text exported", kv.Key)
			}
		}
	}
	if got := attrOf(updates[0], "http.response.status_code"); got != "429" {
		t.Errorf("got status %q on the first try, want 429", got)
	}
	if got := attrOf(updates[0], "breadcrumb.slack.attempt") + "," + attrOf(updates[1], "breadcrumb.slack.attempt"); got != "1,2" {
		t.Errorf("got attempts %s, want 1,2", got)
	}
	if posts := spansNamed(spans.GetSpans(), "slack chat.postMessage"); len(posts) != 1 || posts[0].Parent.SpanID() != change.SpanContext().SpanID() {
		t.Errorf("got %d chat.postMessage spans, want 1 under the queuing span", len(posts))
	}
}

// TestAWriteQueuedWithoutASpanIsNotTraced keeps the outbox from starting
// traces of its own.
func TestAWriteQueuedWithoutASpanIsNotTraced(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	c, srv, _ := newChat(t, ChatConfig{Outbox: OutboxConfig{TracerProvider: tp}})
	ch := srv.AddChannel("inc-untraced", false)
	ref, err := c.Post(context.Background(), bot.Place{Channel: ch}, hello("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Update(context.Background(), ref, hello("v2")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := spans.GetSpans(); len(got) != 0 {
		t.Errorf("got %d spans, want none", len(got))
	}
}
