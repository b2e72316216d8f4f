package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
)

// Start sets up tracing as the OTEL_* environment variables say (NewTracerProvider), logging whether it is on,
// and returns the provider (nil when off) and the function that flushes the last spans at the end, waiting at
// most 5 s and logging a failure.
func Start(ctx context.Context, version string, log *zap.Logger) (trace.TracerProvider, func(), error) {
	tp, shutdown, err := NewTracerProvider(ctx, version)
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
