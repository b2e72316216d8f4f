package pipeline

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model/inference"
)

// message is one fetched Kafka message and the number of its image references still in progress.
type message struct {
	msg     kafka.Message
	pending atomic.Int32
}

// job is one image reference travelling through the stages.
type job struct {
	msg      *message
	ref      consumer.ImageRef
	received time.Time
	fetched  time.Time
	decoded  time.Time
	batched  time.Time
	inferred time.Time
	etag     string
	size     int64
	data     []byte
	prepared *inference.Prepared
	result   inference.Segmentation
	model    *servingModel
	span     trace.Span // the image span (tracing.go)
}

func (p *Pipeline) finishMessage(m *message) {
	p.wm.Done(m.msg.Partition, m.msg.Offset)
	p.metrics.inFlight.Set(float64(p.wm.InFlight()))
}

// finishJob marks one reference of a message finished; the message is finished with its last reference.
func (p *Pipeline) finishJob(j *job) {
	j.span.End()
	if j.msg.pending.Add(-1) == 0 {
		p.finishMessage(j.msg)
	}
}

// failJob dead-letters one reference; if that cannot be written the message stays uncommitted.
func (p *Pipeline) failJob(ctx context.Context, j *job, class events.ErrorClass, err error) {
	ctx = traceFailure(ctx, j, class, err)
	if p.deadLetter(ctx, j.msg, class, err.Error(), &j.ref) {
		p.finishJob(j)
	}
}
