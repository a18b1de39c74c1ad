package inbox

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TraceParentKey is the Delivery.Meta key that holds the W3C traceparent
// of the webhook request that stored the delivery, so that its processing
// joins the request's trace, on this replica or another.
const TraceParentKey = "traceparent"

// traceContext is the format a trace crosses the inbox in: always W3C
// Trace Context (traceparent and tracestate), whatever the process's
// global propagator, so that replicas agree and no baggage is stored.
var traceContext propagation.TraceContext

// InjectTrace records the span context of ctx in meta, in the W3C Trace
// Context format, when ctx carries a valid one; otherwise it does nothing
// and allocates nothing. meta must not be nil when ctx carries a span.
func InjectTrace(ctx context.Context, meta map[string]string) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	traceContext.Inject(ctx, propagation.MapCarrier(meta))
}

// ExtractTrace returns ctx carrying, as its remote parent, the span
// context that InjectTrace recorded in meta, or ctx itself when meta holds
// none (or one that does not parse).
func ExtractTrace(ctx context.Context, meta map[string]string) context.Context {
	if meta[TraceParentKey] == "" {
		return ctx
	}
	return traceContext.Extract(ctx, propagation.MapCarrier(meta))
}

// tracerOf returns the tracer this package's instrumentation uses: tp's,
// or the global provider's when tp is nil (a no-op until one is set).
func tracerOf(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer("github.com/breadcrumb-oncall/breadcrumb/incidents")
}
