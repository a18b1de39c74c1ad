package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

func TestTheTracesEndpointComesFromTheStandardVariables(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{"no variable leaves tracing off", nil, "", false},
		{"the base endpoint gets /v1/traces", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "http://collector:4318/v1/traces", false},
		{"a base endpoint with a path keeps it", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example.com/otlp/"}, "https://otel.example.com/otlp/v1/traces", false},
		{"the traces endpoint is used as it is", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/custom"}, "http://collector:4318/custom", false},
		{"the traces endpoint wins over the base", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/v1/traces"}, "http://b:4318/v1/traces", false},
		{"an address without a scheme is refused", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "", true},
		{"a gRPC-looking scheme is refused", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "grpc://collector:4317"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tracesEndpoint(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestABadEndpointErrorDoesNotRepeatTheValue(t *testing.T) {
	_, err := tracesEndpoint(func(k string) string {
		if k == "OTEL_EXPORTER_OTLP_ENDPOINT" {
			return "user:s3cret@collector"
		}
		return ""
	})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("got %v, want an error that does not quote the value", err)
	}
}

// TestSpansAreExportedOverOTLPHTTPWithTheServiceName runs the provider
// against a receiver that decodes OTLP/HTTP protobuf, and checks that a
// span ended before shutdown is flushed, named for the service.
func TestSpansAreExportedOverOTLPHTTPWithTheServiceName(t *testing.T) {
	var mu sync.Mutex
	var got []*coltracepb.ExportTraceServiceRequest
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		req := &coltracepb.ExportTraceServiceRequest{}
		if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, req) != nil {
			http.Error(w, "not an OTLP/HTTP protobuf export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, req)
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	defer srv.Close()

	off, err := newTracerProvider(t.Context(), func(string) string { return "" }, "v9.9.9")
	if off != nil || err != nil {
		t.Fatalf("got %v, %v without an endpoint, want no provider", off, err)
	}
	tp, err := newTracerProvider(t.Context(), func(k string) string {
		if k == "OTEL_EXPORTER_OTLP_ENDPOINT" {
			return srv.URL
		}
		return ""
	}, "v9.9.9")
	if err != nil || tp == nil {
		t.Fatalf("got %v, %v, want a provider", tp, err)
	}
	_, span := tp.Tracer("test").Start(context.Background(), "webhook alertmanager")
	span.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || paths[0] != "/v1/traces" {
		t.Fatalf("got %d exports at %v, want 1 at /v1/traces", len(got), paths)
	}
	rs := got[0].GetResourceSpans()
	if len(rs) != 1 {
		t.Fatalf("got %d resources, want 1", len(rs))
	}
	attrs := map[string]string{}
	for _, kv := range rs[0].GetResource().GetAttributes() {
		attrs[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	if attrs["service.name"] != "breadcrumb" || attrs["service.version"] != "v9.9.9" {
		t.Errorf("got service %q version %q, want breadcrumb v9.9.9", attrs["service.name"], attrs["service.version"])
	}
	var names []string
	for _, ss := range rs[0].GetScopeSpans() {
		for _, s := range ss.GetSpans() {
			names = append(names, s.GetName())
		}
	}
	if len(names) != 1 || names[0] != "webhook alertmanager" {
		t.Errorf("got spans %v, want [webhook alertmanager]", names)
	}
}
