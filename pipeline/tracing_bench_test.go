package pipeline_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/internal/testsupport/otlptest"
)

// benchFlags parses a comma-separated list of 0/1.
func benchFlags(v string) []bool {
	var out []bool
	if v == "" {
		return nil
	}
	for _, f := range strings.Split(v, ",") {
		out = append(out, strings.TrimSpace(f) == "1")
	}
	return out
}

// benchTracing returns, when on, a tracer provider as `vitseg serve` builds it from OTEL_* (batch span
// processor, OTLP/HTTP protobuf exporter, always sampled) exporting to a real OTLP receiver in this process,
// and marks the case name; nil when off.
func benchTracing(tb testing.TB, on bool, name *string) trace.TracerProvider {
	tb.Helper()
	if !on {
		return nil
	}
	recv := otlptest.Start(tb)
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(recv.Endpoint()+"/v1/traces"))
	if err != nil {
		tb.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			tb.Errorf("tracer shutdown: %v", err)
		}
	})
	*name += ", tracing on"
	return tp
}

// benchTracingOverhead adds, for the first traced pipeline and the first untraced one, the ratio of their
// images/s and of their CPU per image, round by round (the rounds interleave the two, seconds apart).
func benchTracingOverhead(rep *bench.Report, pipelines []bench.Series, tracing []bool) {
	on, off := -1, -1
	for i := range pipelines {
		traced := i < len(tracing) && tracing[i]
		if traced && on < 0 {
			on = i
		}
		if !traced && off < 0 {
			off = i
		}
	}
	if on < 0 || off < 0 {
		return
	}
	a, b := pipelines[on], pipelines[off]
	n := min(len(a.Rates), len(b.Rates))
	ratios := make([]float64, n)
	for i := range n {
		ratios[i] = a.Rates[i] / b.Rates[i]
	}
	rep.AddRounds("tracing on / off images/s", ratios, "ratio of images/s", fmt.Sprintf("%s vs %s, same round", a.Name, b.Name))
	rep.Add("tracing on / off CPU", a.ProbeMedian("self")/b.ProbeMedian("self"), "ratio of CPU-ms/image",
		"this process, incl. the in-process OTLP receiver decoding the spans")
}
