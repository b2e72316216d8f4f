package pipeline_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/vitseg/vitseg/pipeline"
)

// spanTree indexes the ended spans the in-memory exporter holds.
type spanTree []tracetest.SpanStub

// find returns the spans named name in trace, whose parent is parent (any parent when parent is invalid).
func (st spanTree) find(traceID trace.TraceID, name string, parent trace.SpanContext) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range st {
		if s.Name == name && s.SpanContext.TraceID() == traceID && (!parent.IsValid() || s.Parent.SpanID() == parent.SpanID()) {
			out = append(out, s)
		}
	}
	return out
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

// tracedRef produces a plain reference to key whose traceparent header names a fresh remote span, and
// returns that span context.
func (s *stack) tracedRef(t *testing.T, key string, traceID string) trace.SpanContext {
	t.Helper()
	parent := "00-" + traceID + "-b7ad6b7169203331-01"
	msg := kafka.Message{Key: []byte(key), Value: []byte(`{"bucket":"` + bucket + `","key":"` + key + `"}`),
		Headers: []kafka.Header{{Key: "traceparent", Value: []byte(parent)}, {Key: "tracestate", Value: []byte("vendor=x")}}}
	w := &kafka.Writer{Addr: kafka.TCP(s.kafka.Brokers()...), Topic: inputTopic, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": parent}))
}

// headerSpan returns the span context of a message's traceparent header.
func headerSpan(m kafka.Message) trace.SpanContext {
	carrier := propagation.MapCarrier{}
	for _, h := range m.Headers {
		carrier[h.Key] = string(h.Value)
	}
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), carrier))
}

// TestTracingSpanStructure runs the pipeline with the SDK's in-memory exporter. The photo's own bucket
// notification (no traceparent) starts a trace of its own (the wait below requires it). A reference whose headers
// carry a traceparent is traced as a child of it: its image span has the fetch, decode, queue and write spans
// as children, publish under write, and the batch's infer span links to it; the result's traceparent names
// the publish span. A bad image's decode span fails with its error class and the dead letter's traceparent
// names the deadletter span under it.
func TestTracingSpanStructure(t *testing.T) {
	s := startStack(t)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background()) //nolint:errcheck
	s.tracing = tp
	results, deads := s.collect(t, resultTopic), s.collect(t, dlqTopic)
	in := s.startPipeline(t, pipeline.ModelSource{File: writeModel(t, exportTiny(t, "v1", 1))}, testLogger(t))

	good, bad := uploads+"trace-good.jpg", uploads+"trace-bad.jpg"
	s.upload(t, "trace-good.jpg") // its notification is traced too, as a new trace
	junk := []byte("not an image")
	if _, err := s.s3.PutObject(context.Background(), bucket, bad, bytes.NewReader(junk), int64(len(junk)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	goodParent := s.tracedRef(t, good, "0af7651916cd43dd8448eb211c80319c")
	badParent := s.tracedRef(t, bad, "1bf7651916cd43dd8448eb211c80319d")
	byTrace := func(c *collector, id trace.TraceID) (kafka.Message, bool) {
		for _, m := range c.snapshot() {
			if headerSpan(m).TraceID() == id {
				return m, true
			}
		}
		return kafka.Message{}, false
	}
	var result, dead kafka.Message
	waitFor(t, 90*time.Second, "the traced result and dead letter", func() bool {
		var ok1, ok2 bool
		result, ok1 = byTrace(results, goodParent.TraceID())
		dead, ok2 = byTrace(deads, badParent.TraceID())
		return ok1 && ok2
	})
	var spans spanTree
	waitFor(t, 30*time.Second, "the image spans to end", func() bool {
		spans = spanTree(exp.GetSpans())
		return len(spans.find(goodParent.TraceID(), "vitseg.image", goodParent)) == 1 &&
			len(spans.find(badParent.TraceID(), "vitseg.image", badParent)) == 1 && spans.roots(good) > 0
	})

	image := spans.find(goodParent.TraceID(), "vitseg.image", goodParent)[0]
	if attr(image, "vitseg.object.key") != good || attr(image, "messaging.system") != "kafka" || image.SpanContext.TraceState().Get("vendor") != "x" {
		t.Errorf("image span attributes %v, trace state %v", image.Attributes, image.SpanContext.TraceState())
	}
	for _, stage := range []string{"fetch", "decode", "queue", "write"} {
		if n := len(spans.find(goodParent.TraceID(), stage, image.SpanContext)); n != 1 {
			t.Errorf("%d %s spans under the image span, want 1", n, stage)
		}
	}
	write := spans.find(goodParent.TraceID(), "write", image.SpanContext)[0]
	if attr(write, "vitseg.model.version") != "v1" {
		t.Errorf("write span attributes %v", write.Attributes)
	}
	publish := spans.find(goodParent.TraceID(), "publish", write.SpanContext)
	if len(publish) != 1 || headerSpan(result).SpanID() != publish[0].SpanContext.SpanID() {
		t.Errorf("result traceparent %v, publish spans %v", headerSpan(result), publish)
	}
	linked := false
	for _, s := range spans {
		for _, l := range s.Links {
			if s.Name == "infer" && l.SpanContext.SpanID() == image.SpanContext.SpanID() {
				linked = attr(s, "vitseg.model.version") == "v1" && attr(s, "vitseg.batch.size") != ""
			}
		}
	}
	if !linked {
		t.Error("no infer span (with model version and batch size) links to the image span")
	}

	badImage := spans.find(badParent.TraceID(), "vitseg.image", badParent)[0]
	decode := spans.find(badParent.TraceID(), "decode", badImage.SpanContext)
	if len(decode) != 1 || decode[0].Status.Code != codes.Error || attr(decode[0], "vitseg.error.class") != "bad_image" ||
		badImage.Status.Code != codes.Error {
		t.Fatalf("decode spans %v, image status %v", decode, badImage.Status)
	}
	dl := spans.find(badParent.TraceID(), "deadletter", decode[0].SpanContext)
	if len(dl) != 1 || headerSpan(dead).SpanID() != dl[0].SpanContext.SpanID() || attr(dl[0], "vitseg.error.class") != "bad_image" {
		t.Errorf("dead letter traceparent %v, deadletter spans %v", headerSpan(dead), dl)
	}
	checkExemplars(t, in.p, spans)
}

// roots counts the image spans of key that started a trace of their own (no traceparent in the input).
func (st spanTree) roots(key string) int {
	n := 0
	for _, s := range st {
		if s.Name == "vitseg.image" && !s.Parent.IsValid() && attr(s, "vitseg.object.key") == key {
			n++
		}
	}
	return n
}

// checkExemplars scrapes p's metrics as Prometheus does (OpenMetrics): the end-to-end latency histogram carries
// exemplars, each the trace id of an image span.
func checkExemplars(t *testing.T, p *pipeline.Pipeline, spans spanTree) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	p.Handler().ServeHTTP(rec, req)
	images := map[string]bool{}
	for _, s := range spans {
		if s.Name == "vitseg.image" {
			images[s.SpanContext.TraceID().String()] = true
		}
	}
	found := 0
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if !strings.HasPrefix(line, `vitseg_stage_seconds_bucket{stage="total"`) {
			continue
		}
		if _, ex, ok := strings.Cut(line, ` # {trace_id="`); ok {
			id, _, _ := strings.Cut(ex, `"`)
			if !images[id] {
				t.Errorf("exemplar trace id %s is no image span's trace", id)
			}
			found++
		}
	}
	if found == 0 {
		t.Errorf("no exemplar on the end-to-end latency buckets:\n%s", rec.Body.String())
	}
}
