package pipeline

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/kafkaconn"
)

// Tracing: each image reference is one span ("vitseg.image"), a child of the W3C trace context in its input
// message's headers (or the root of a new trace). Its stages are child spans: fetch, decode, queue, write,
// and publish (the result event, whose traceparent header names the publish span) or deadletter. Inference
// runs per batch: one "infer" span per batch, linked to the span of each image in it. Without a
// TracerProvider in Deps the spans are no-ops that still carry the input's trace context into the output
// headers.

// tracerName is the instrumentation scope of the pipeline's spans.
const tracerName = "github.com/vitseg/vitseg/pipeline"

// Span attribute keys of vitseg's own attributes.
const (
	attrBucket       = attribute.Key("vitseg.object.bucket")
	attrKey          = attribute.Key("vitseg.object.key")
	attrModelVersion = attribute.Key("vitseg.model.version")
	attrBatchSize    = attribute.Key("vitseg.batch.size")
	attrErrorClass   = attribute.Key("vitseg.error.class")
	attrAttempt      = attribute.Key("vitseg.attempt")
)

// newTracer returns the pipeline's tracer from tp (a no-op one when tp is nil).
func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(tracerName)
}

// messageContext returns ctx with the remote span context of m's traceparent header, unless ctx already
// holds a span.
func messageContext(ctx context.Context, m *message) context.Context {
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, kafkaconn.HeaderCarrier{Headers: &m.msg.Headers})
}

// newJob returns the job of one reference of m, with its image span started.
func (p *Pipeline) newJob(m *message, ref consumer.ImageRef, received time.Time) *job {
	_, span := p.tracer.Start(messageContext(context.Background(), m), "vitseg.image",
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithTimestamp(received), trace.WithAttributes(
			semconv.MessagingSystemKafka, semconv.MessagingDestinationName(m.msg.Topic),
			semconv.MessagingDestinationPartitionID(strconv.Itoa(m.msg.Partition)), semconv.MessagingKafkaOffset(int(m.msg.Offset)),
			attrBucket.String(ref.Bucket), attrKey.String(ref.Key), attrAttempt.Int(events.Attempt(m.msg.Headers))))
	return &job{msg: m, ref: ref, received: received, span: span}
}

// traced wraps a stage's work in a span named stage, a child of the job's image span; work gets the span in
// its context.
func (p *Pipeline) traced(stage string, work func(context.Context, *job) bool) func(context.Context, *job) bool {
	return func(ctx context.Context, j *job) bool {
		ctx, span := p.tracer.Start(trace.ContextWithSpan(ctx, j.span), stage, trace.WithAttributes(attrKey.String(j.ref.Key)))
		defer span.End()
		if j.model != nil {
			span.SetAttributes(attrModelVersion.String(j.model.version))
		}
		return work(ctx, j)
	}
}

// traceFailure marks the job's image span, and the stage span in ctx if there is one, as failed with class.
// It returns ctx with the image span when ctx had no span, so that the dead letter's span is the job's.
func traceFailure(ctx context.Context, j *job, class events.ErrorClass, err error) context.Context {
	spans := []trace.Span{j.span}
	if stage := trace.SpanFromContext(ctx); stage.SpanContext().IsValid() {
		spans = append(spans, stage)
	} else {
		ctx = trace.ContextWithSpan(ctx, j.span)
	}
	for _, s := range spans {
		s.SetAttributes(attrErrorClass.String(string(class)))
		s.RecordError(err)
		s.SetStatus(codes.Error, string(class))
	}
	return ctx
}

// traceBatch records each job's queue span (decoded until the batch started) and starts the batch's infer
// span, linked to the jobs' image spans.
func (p *Pipeline) traceBatch(ctx context.Context, batch []*job, m *servingModel, start time.Time) trace.Span {
	links := make([]trace.Link, len(batch))
	for i, j := range batch {
		_, q := p.tracer.Start(trace.ContextWithSpan(ctx, j.span), "queue", trace.WithTimestamp(j.decoded),
			trace.WithAttributes(attrKey.String(j.ref.Key)))
		q.End(trace.WithTimestamp(start))
		links[i] = trace.Link{SpanContext: j.span.SpanContext()}
	}
	_, span := p.tracer.Start(ctx, "infer", trace.WithTimestamp(start), trace.WithLinks(links...),
		trace.WithAttributes(attrBatchSize.Int(len(batch)), attrModelVersion.String(m.version)))
	return span
}

// endBatch ends the infer span, failed when err is set.
func endBatch(span trace.Span, err error) {
	if err != nil {
		span.SetAttributes(attrErrorClass.String(string(events.ClassInternal)))
		span.RecordError(err)
		span.SetStatus(codes.Error, string(events.ClassInternal))
	}
	span.End()
}

// tracedWriter starts a producer span around each publish, so that the events' traceparent names it.
type tracedWriter struct {
	Writer
	tracer trace.Tracer
}

func (w tracedWriter) PublishResults(ctx context.Context, evs ...events.ResultEvent) error {
	ctx, span := w.tracer.Start(ctx, "publish", trace.WithSpanKind(trace.SpanKindProducer))
	defer span.End()
	if len(evs) == 1 {
		span.SetAttributes(attrKey.String(evs[0].Source.Key), attrModelVersion.String(evs[0].Model.Version))
	}
	return endPublish(span, w.Writer.PublishResults(ctx, evs...))
}

func (w tracedWriter) PublishDeadLetters(ctx context.Context, evs ...events.DeadLetterEvent) error {
	ctx, span := w.tracer.Start(ctx, "deadletter", trace.WithSpanKind(trace.SpanKindProducer))
	defer span.End()
	if len(evs) == 1 {
		span.SetAttributes(attrErrorClass.String(string(evs[0].ErrorClass)))
		if src := evs[0].Source; src != nil {
			span.SetAttributes(attrKey.String(src.Key))
		}
	}
	return endPublish(span, w.Writer.PublishDeadLetters(ctx, evs...))
}

// endPublish records a failed publish on span and returns err.
func endPublish(span trace.Span, err error) error {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "publish failed")
	}
	return err
}
