package slack

import (
	"context"
	"errors"

	slackgo "github.com/slack-go/slack"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// startCall starts the span of one call to Slack for j, a child of the
// span j was queued under; a write queued without one is not traced, and
// costs nothing here. what is the Web API method, or "lookup" for the
// search of a post that a failed call may have made.
func (o *Outbox) startCall(ctx context.Context, j *job, what, channel string, attempt int) (context.Context, trace.Span) {
	if !j.parent.IsValid() {
		return ctx, trace.SpanFromContext(ctx) // the no-op span of a context without one
	}
	ctx, span := o.tracer.Start(trace.ContextWithSpanContext(ctx, j.parent), "slack "+what, trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() {
		span.SetAttributes(
			attribute.String("slack.method", j.method),
			attribute.String("slack.channel", channel),
			attribute.Int("breadcrumb.slack.attempt", attempt),
		)
	}
	return ctx, span
}

// endCall records how a call went and ends its span. Only Slack's error
// code, the HTTP status or the kind of failure is recorded, never the
// error's text, which may quote what was sent.
func endCall(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		kind := "error"
		var rl *slackgo.RateLimitedError
		var sc slackgo.StatusCodeError
		var se slackgo.SlackErrorResponse
		var e *Error
		switch {
		case errors.As(err, &rl):
			kind = "rate_limited"
			span.SetAttributes(attribute.Int("http.response.status_code", 429))
		case errors.As(err, &sc):
			kind = "http_status"
			span.SetAttributes(attribute.Int("http.response.status_code", sc.Code))
		case errors.As(err, &se):
			kind = "slack_error"
			span.SetAttributes(attribute.String("slack.error", se.Err))
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			kind = "timeout"
		}
		if errors.As(err, &e) {
			span.SetAttributes(attribute.Bool("breadcrumb.slack.retryable", e.Retryable()))
		}
		span.SetStatus(codes.Error, kind)
	}
	span.End()
}
