package kafkaconn

import (
	"context"
	"testing"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TestRoundTrip: the W3C propagator injects into and extracts from headers through Carrier, replacing a
// stale traceparent instead of adding a second one.
func TestRoundTrip(t *testing.T) {
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	in := []kafka.Header{{Key: "other", Value: []byte("x")}, {Key: "traceparent", Value: []byte(parent)},
		{Key: "tracestate", Value: []byte("vendor=1")}}
	prop := propagation.TraceContext{}
	ctx := prop.Extract(context.Background(), HeaderCarrier{&in})
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsRemote() || sc.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || sc.TraceState().Get("vendor") != "1" {
		t.Fatalf("extracted %+v", sc)
	}
	out := []kafka.Header{{Key: "traceparent", Value: []byte("stale")}}
	prop.Inject(ctx, HeaderCarrier{&out})
	c := HeaderCarrier{&out}
	if c.Get("traceparent") != parent || c.Get("tracestate") != "vendor=1" || len(out) != 2 {
		t.Errorf("injected %v", out)
	}
	empty := []kafka.Header{}
	prop.Inject(context.Background(), HeaderCarrier{&empty})
	if len(empty) != 0 {
		t.Errorf("no span, yet headers %v", empty)
	}
	if got := (HeaderCarrier{&in}).Keys(); len(got) != 3 || got[0] != "other" {
		t.Errorf("keys %v", got)
	}
}
