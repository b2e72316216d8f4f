package main

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/telemetry"
)

// startTracing sets up OpenTelemetry tracing as the OTEL_* environment variables say (off when they do not
// ask for it) and returns the provider (nil when off) and the function that flushes the spans at the end.
func startTracing(ctx context.Context, log *zap.Logger) (trace.TracerProvider, func(), error) {
	tp, shutdown, err := telemetry.NewTracerProvider(ctx, version)
	if err != nil {
		return nil, nil, err
	}
	if tp == nil {
		log.Info("tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER=otlp)")
	} else {
		log.Info("tracing: exporting spans over OTLP/HTTP as the OTEL_* variables configure")
	}
	flush := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			log.Warn("flushing the last spans", zap.Error(err))
		}
	}
	return tp, flush, nil
}
