package pipeline

import (
	"context"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model/inference"
)

// Reader is the Kafka consumer the pipeline reads from (*consumer.Reader).
type Reader interface {
	Fetch(ctx context.Context) (kafka.Message, error)
	Commit(ctx context.Context, w *consumer.Watermark) error
	Lag() int64
}

// Writer produces result and dead-letter events (*producer.Writer).
type Writer interface {
	PublishResults(ctx context.Context, evs ...events.ResultEvent) error
	PublishDeadLetters(ctx context.Context, evs ...events.DeadLetterEvent) error
}

// Deps are the pipeline's connections. Reader, Writer and Store are interfaces so that a stage can be tested
// alone; production passes *consumer.Reader, *producer.Writer and NewS3Store(client).
type Deps struct {
	Reader     Reader
	Writer     Writer
	Store      ObjectStore // images in, masks out (NewS3Store)
	Runtime    *inference.Runtime
	Session    inference.Options
	Models     ModelSource
	KafkaProbe func(ctx context.Context) error // readiness: is Kafka reachable?
	Logger     *zap.Logger
	Tracing    trace.TracerProvider // spans per image and batch (see tracing.go); nil: none, trace context passed on
}
