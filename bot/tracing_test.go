package bot

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestQueuedWorkIsTracedUnderTheSpanThatQueuedIt runs work queued from a
// traced change on the queue's own goroutine, and finds it, and the idle
// refresh after it, children of the change's span; work queued without
// a span runs without one.
func TestQueuedWorkIsTracedUnderTheSpanThatQueuedIt(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	var mu sync.Mutex
	seen := map[string]trace.SpanContext{}
	record := func(what string) func(ctx context.Context) {
		return func(ctx context.Context) {
			mu.Lock()
			defer mu.Unlock()
			seen[what] = trace.SpanContextFromContext(ctx)
		}
	}
	q := newQueue(func(ctx context.Context, key string) { record("idle " + key)(ctx) }, slog.New(slog.DiscardHandler), tp.Tracer("test"))
	_, change := tp.Tracer("test").Start(context.Background(), "incident change")
	change.End()
	q.pushFrom(change.SpanContext(), "INC-1", record("traced"))
	q.push("INC-2", record("untraced"))
	q.wait()
	q.close()

	work := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spansNamed(spans.GetSpans(), "bot work") {
		work[s.SpanContext.SpanID()] = s
	}
	for _, what := range []string{"traced", "idle INC-1"} {
		sc := seen[what]
		s, ok := work[sc.SpanID()]
		if !ok {
			t.Errorf("got %s run under span %s, want a bot work span", what, sc.SpanID())
			continue
		}
		if s.Parent.SpanID() != change.SpanContext().SpanID() || sc.TraceID() != change.SpanContext().TraceID() {
			t.Errorf("got %s's parent %s, want the change's span %s", what, s.Parent.SpanID(), change.SpanContext().SpanID())
		}
	}
	for _, what := range []string{"untraced", "idle INC-2"} {
		if sc := seen[what]; sc.IsValid() {
			t.Errorf("got %s run under span %s, want none", what, sc.SpanID())
		}
	}
	if got := len(work); got != 2 {
		t.Errorf("got %d bot work spans, want 2", got)
	}
}

func spansNamed(spans tracetest.SpanStubs, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}
