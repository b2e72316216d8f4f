package telemetry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/vitseg/vitseg/internal/telemetry"
	"github.com/vitseg/vitseg/internal/testsupport/otlptest"
)

func TestEnabled(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{"exporter otlp", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{"exporter none", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
		{"sdk disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := telemetry.Enabled(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("Enabled = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestExportsToOTLPReceiver: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a real OTLP/HTTP receiver, the
// spans arrive there on shutdown, with the service name of OTEL_SERVICE_NAME and the service version.
func TestExportsToOTLPReceiver(t *testing.T) {
	r := otlptest.Start(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", r.Endpoint())
	t.Setenv("OTEL_SERVICE_NAME", "vitseg-test")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tp, shutdown, err := telemetry.NewTracerProvider(ctx, "v9")
	if err != nil || tp == nil {
		t.Fatalf("NewTracerProvider: %v, %v", tp, err)
	}
	parentCtx, parent := tp.Tracer("test").Start(ctx, "parent")
	_, child := tp.Tracer("test").Start(parentCtx, "child")
	child.SetAttributes(attribute.Int("n", 7))
	child.End()
	parent.End()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	spans := r.Spans()
	if len(spans) != 2 {
		t.Fatalf("received %d spans, want 2: %+v", len(spans), spans)
	}
	byName := map[string]otlptest.Span{}
	for _, s := range spans {
		byName[s.Name] = s
		if s.Service != "vitseg-test" {
			t.Errorf("span %s from service %q", s.Name, s.Service)
		}
	}
	if c, p := byName["child"], byName["parent"]; c.ParentSpanID != p.SpanID || c.TraceID != p.TraceID || c.Attributes["n"] != "7" {
		t.Errorf("child %+v, parent %+v", c, p)
	}
}

// TestOffAndUnsupported: no OTEL_* configuration, no provider; a gRPC protocol is refused clearly.
func TestOffAndUnsupported(t *testing.T) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"} {
		t.Setenv(k, "")
	}
	tp, shutdown, err := telemetry.NewTracerProvider(context.Background(), "v")
	if tp != nil || err != nil || shutdown(context.Background()) != nil {
		t.Errorf("tracing on without configuration: %v %v", tp, err)
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	if _, _, err := telemetry.NewTracerProvider(context.Background(), "v"); !errors.Is(err, telemetry.ErrUnsupported) {
		t.Errorf("grpc protocol: err %v, want ErrUnsupported", err)
	}
}
