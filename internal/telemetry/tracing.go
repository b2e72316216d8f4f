// Package telemetry sets up OpenTelemetry tracing from the standard OTEL_* environment variables: off unless
// they ask for it, then spans exported over OTLP/HTTP (protobuf). Start is the setup of a command, with logs.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES set it.
const DefaultServiceName = "vitseg"

// ErrUnsupported is wrapped by NewTracerProvider's error for a configuration it cannot serve.
var ErrUnsupported = errors.New("telemetry: unsupported OpenTelemetry configuration")

// Enabled reports whether getenv configures trace export: OTEL_SDK_DISABLED is not true, OTEL_TRACES_EXPORTER
// is not "none", and either OTEL_TRACES_EXPORTER is "otlp" or an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// NewTracerProvider returns the tracer provider the environment configures and the function that flushes
// and stops it, or (nil, a no-op, nil) when Enabled says tracing is off. The exporter takes the endpoint,
// headers, timeout, compression and certificate from OTEL_EXPORTER_OTLP_*; the sampler from
// OTEL_TRACES_SAMPLER(_ARG) (default: parent-based, always on); the batch processor from OTEL_BSP_*; the
// resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, with service.name DefaultServiceName and
// service.version version unless they say otherwise.
func NewTracerProvider(ctx context.Context, version string) (trace.TracerProvider, func(context.Context) error, error) {
	off := func(context.Context) error { return nil }
	if !Enabled(os.Getenv) {
		return nil, off, nil
	}
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := os.Getenv(v); p != "" && p != "http/protobuf" {
			return nil, off, fmt.Errorf("%w: %s=%s (vitseg exports OTLP over http/protobuf only)", ErrUnsupported, v, p)
		}
		if os.Getenv(v) != "" {
			break // the traces-specific setting wins
		}
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, off, fmt.Errorf("telemetry: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(DefaultServiceName), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, off, fmt.Errorf("telemetry: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}
