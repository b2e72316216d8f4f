package telemetry_test

import (
	"context"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vitseg/vitseg/internal/telemetry"
)

// TestStartOff: without configuration Start logs that tracing is off and returns no provider and a flush that
// does nothing.
func TestStartOff(t *testing.T) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"} {
		t.Setenv(k, "")
	}
	core, logs := observer.New(zap.InfoLevel)
	tp, flush, err := telemetry.Start(context.Background(), "v", zap.New(core))
	if tp != nil || err != nil {
		t.Fatalf("tracing on without configuration: %v %v", tp, err)
	}
	flush()
	if logs.FilterMessageSnippet("tracing off").Len() != 1 || logs.Len() != 1 {
		t.Errorf("logs: %v", logs.All())
	}
}
