package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/internal/testsupport/otlptest"
)

// TestTracingExportsOverOTLP: `vitseg serve` with OTEL_EXPORTER_OTLP_ENDPOINT exports its spans to a real
// OTLP/HTTP receiver. A reference with a traceparent header is traced in that trace: the image span is a child
// of the header's span, the stages are its children, an infer span links to it, and the result event's
// traceparent names the publish span, in the same trace.
func TestTracingExportsOverOTLP(t *testing.T) {
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	s := startStack(t, stackConfig{})
	recv := otlptest.Start(t)
	results := s.collect(t, resultTopic, partitions)
	s.startServe(t, serveConfig{model: tinyModel(t, 1), args: []string{"--allow", bucket + "/" + manual},
		env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + recv.Endpoint(), "OTEL_SERVICE_NAME=vitseg-e2e", "OTEL_BSP_SCHEDULE_DELAY=100"}})
	key := manual + "traced.jpg"
	s.put(t, bucket, key, samplePhotos(t)[0])
	s.produce(t, inputTopic, kafka.Message{Key: []byte(key), Value: ref(bucket, key),
		Headers: []kafka.Header{{Key: "traceparent", Value: []byte("00-" + traceID + "-" + parentID + "-01")}}})
	waitFor(t, 60*time.Second, "the result", func() bool { return len(results.snapshot()) == 1 })
	traceparent := ""
	for _, h := range results.snapshot()[0].Headers {
		if h.Key == "traceparent" {
			traceparent = string(h.Value)
		}
	}
	byName := map[string][]otlptest.Span{}
	waitFor(t, 30*time.Second, "the trace's spans at the receiver", func() bool {
		byName = map[string][]otlptest.Span{}
		for _, sp := range recv.Spans() {
			if sp.TraceID == traceID || sp.Name == "infer" {
				byName[sp.Name] = append(byName[sp.Name], sp)
			}
		}
		return len(byName["vitseg.image"]) == 1 && len(byName["publish"]) == 1 && len(byName["infer"]) >= 1
	})
	image := byName["vitseg.image"][0]
	if image.ParentSpanID != parentID || image.Service != "vitseg-e2e" || image.Attributes["vitseg.object.key"] != key {
		t.Errorf("image span %+v", image)
	}
	for _, stage := range []string{"fetch", "decode", "queue", "write"} {
		if sp := byName[stage]; len(sp) != 1 || sp[0].ParentSpanID != image.SpanID {
			t.Errorf("%s spans %+v, want one under the image span %s", stage, sp, image.SpanID)
		}
	}
	publish := byName["publish"][0]
	if want := "00-" + traceID + "-" + publish.SpanID + "-01"; traceparent != want {
		t.Errorf("result traceparent %q, want %q", traceparent, want)
	}
	linked := false
	for _, sp := range byName["infer"] {
		linked = linked || strings.Contains(strings.Join(sp.Links, ","), image.SpanID)
	}
	if !linked {
		t.Errorf("no infer span links to the image span: %+v", byName["infer"])
	}
}
