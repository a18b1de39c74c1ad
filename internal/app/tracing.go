package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// tracingShutdownTimeout bounds the flush of the spans still buffered
// when the service stops.
const tracingShutdownTimeout = 5 * time.Second

// tracesEndpoint is the OTLP/HTTP address spans are sent to, from the
// standard variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or
// OTEL_EXPORTER_OTLP_ENDPOINT with "/v1/traces" added to its path. It is
// empty when neither is set: tracing is off.
func tracesEndpoint(getenv func(string) string) (string, error) {
	name, raw := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	base := false
	if raw == "" {
		name, raw, base = "OTEL_EXPORTER_OTLP_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")), true
	}
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: want an http:// or https:// URL with a host, such as http://localhost:4318", name)
	}
	if base {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	return u.String(), nil
}

// newTracerProvider returns a TracerProvider that batches spans to the
// OTLP/HTTP endpoint, naming the service "breadcrumb" at version; nil
// when tracing is off. The exporter reads the other standard
// OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression,
// certificates) and the provider OTEL_TRACES_SAMPLER* and
// OTEL_RESOURCE_ATTRIBUTES.
func newTracerProvider(ctx context.Context, getenv func(string) string, version string) (*sdktrace.TracerProvider, error) {
	endpoint, err := tracesEndpoint(getenv)
	if err != nil || endpoint == "" {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("tracing: the OTLP exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", "breadcrumb"),
		attribute.String("service.version", version),
	))
	if err != nil {
		return nil, fmt.Errorf("tracing: the service's resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// setupTracing turns tracing on when an OTLP endpoint is configured: it
// makes the process's TracerProvider and the W3C Trace Context
// propagator the global ones, which the packages use when they are given
// no provider, and routes the SDK's errors to logger. The returned
// function flushes the spans still buffered and stops; it does nothing
// when tracing is off.
func setupTracing(ctx context.Context, getenv func(string) string, version string, logger *slog.Logger) (func(), error) {
	tp, err := newTracerProvider(ctx, getenv, version)
	if err != nil || tp == nil {
		return func() {}, err
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("tracing: spans not exported", "err", err)
	}))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	endpoint, _ := tracesEndpoint(getenv)
	if u, err := url.Parse(endpoint); err == nil {
		endpoint = u.Redacted()
	}
	logger.Info("tracing on", "endpoint", endpoint)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), tracingShutdownTimeout)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			logger.Warn("tracing: flushing the last spans", "err", err)
		}
	}, nil
}
