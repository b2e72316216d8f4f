package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
)

// intakeQueues are the queues consume feeds: images to segment, and label objects to score (nil without a
// feedback stage).
type intakeQueues struct {
	images, labels chan<- *job
}

// consume fetches messages until ctx ends, tracking each in the watermark and fanning out its references.
// Dead letters are written on workCtx, so that one begun before shutdown can still finish. It returns an
// error only when the reader is closed.
func (p *Pipeline) consume(ctx, workCtx context.Context, q intakeQueues) error {
	for {
		msg, err := p.fetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		received := time.Now()
		m := p.track(msg)
		refs, labels, next := p.screen(workCtx, m)
		switch next {
		case stopIntake:
			return nil // Shutdown before a dead letter was written: the message is redelivered later.
		case nextMessage:
			continue
		}
		if class, why := p.admission(msg, received); class != "" {
			if !p.refuse(workCtx, m, append(refs, labels...), class, why) {
				return nil
			}
			continue
		}
		m.pending.Store(int32(len(refs) + len(labels)))
		if !p.enqueue(ctx, q.images, m, refs, received) || !p.enqueue(ctx, q.labels, m, labels, received) {
			// Shutdown while a queue is full: this message stays uncommitted and will be redelivered.
			return nil
		}
	}
}

// enqueue sends a job for each of refs to out; false when ctx ends first.
func (p *Pipeline) enqueue(ctx context.Context, out chan<- *job, m *message, refs []consumer.ImageRef, received time.Time) bool {
	for _, ref := range refs {
		select {
		case out <- p.newJob(m, ref, received):
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// fetchMessage fetches the next message, retrying failures every RetryMin; an error when ctx ends or the
// reader is closed (consumer.ErrClosed: no retry can succeed).
func (p *Pipeline) fetchMessage(ctx context.Context) (kafka.Message, error) {
	for {
		msg, err := p.deps.Reader.Fetch(ctx)
		if err == nil {
			return msg, nil
		}
		if ctx.Err() != nil {
			return kafka.Message{}, ctx.Err()
		}
		if errors.Is(err, consumer.ErrClosed) {
			return kafka.Message{}, fmt.Errorf("fetch: %w", err)
		}
		p.kafkaOK.Store(false)
		p.log.Warn("fetch failed; retrying", zap.Error(err))
		p.metrics.retries.WithLabelValues(opKafkaFetch).Inc()
		select {
		case <-time.After(p.cfg.RetryMin):
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		}
	}
}

// track records msg in the watermark (it is in flight until finished).
func (p *Pipeline) track(msg kafka.Message) *message {
	p.metrics.consumed.Inc()
	p.metrics.lag.Set(float64(p.deps.Reader.Lag()))
	if p.wm.Track(msg.Partition, msg.Offset) {
		p.log.Info("partition restarted (rebalance or redelivery)", zap.Int("partition", msg.Partition),
			zap.Int64("offset", msg.Offset))
	}
	p.metrics.inFlight.Set(float64(p.wm.InFlight()))
	return &message{msg: msg}
}

// intakeNext says what consume does after screening a message.
type intakeNext int

const (
	processRefs intakeNext = iota // the accepted references go on to the stages
	nextMessage                   // nothing to process: the message is finished (or left for redelivery)
	stopIntake                    // shutdown before a dead letter was written
)

// screen parses m and filters its references: label objects go apart (to the feedback stage), ignored ones
// are dropped, refused ones dead-lettered (a message of one refused reference as a whole, by reject). It
// returns the references to segment and the label objects to score.
func (p *Pipeline) screen(ctx context.Context, m *message) (accepted, labels []consumer.ImageRef, next intakeNext) {
	refs, err := consumer.ParseMessage(m.msg.Value)
	if err != nil {
		p.reject(ctx, m, nil, err)
		return nil, nil, nextMessage
	}
	for _, ref := range refs {
		if p.isLabel(ref) {
			labels = append(labels, ref)
			continue
		}
		err := p.filter.Check(ref)
		switch {
		case err == nil:
			accepted = append(accepted, ref)
		case errors.Is(err, consumer.ErrIgnored):
			p.metrics.ignored.Inc()
		case len(refs) == 1:
			p.reject(ctx, m, &ref, err)
			return nil, nil, nextMessage
		case !p.deadLetter(ctx, m, events.ClassNotAllowed, reason(err), &ref):
			// Shutdown before this record's dead letter was written: leave the whole message uncommitted.
			return nil, nil, stopIntake
		}
	}
	if len(accepted)+len(labels) == 0 {
		p.finishMessage(m)
		return nil, nil, nextMessage
	}
	return accepted, labels, processRefs
}

// isLabel reports whether ref is a label object for the feedback stage.
func (p *Pipeline) isLabel(ref consumer.ImageRef) bool {
	return p.lifecycle != nil && p.lifecycle.labels.isLabel(ref)
}

// reject handles a message that yields no work: ignored messages are just finished; others are dead-lettered.
func (p *Pipeline) reject(ctx context.Context, m *message, ref *consumer.ImageRef, err error) {
	switch {
	case errors.Is(err, consumer.ErrIgnored):
		p.metrics.ignored.Inc()
		p.finishMessage(m)
	case errors.Is(err, consumer.ErrNotAllowed):
		if p.deadLetter(ctx, m, events.ClassNotAllowed, reason(err), ref) {
			p.finishMessage(m)
		}
	default:
		if p.deadLetter(ctx, m, events.ClassMalformedMessage, reason(err), ref) {
			p.finishMessage(m)
		}
	}
}

// reason is the dead-letter reason of a rejected message: its kind, the parser's reason and the cause (a JSON
// syntax error, say), if any.
func reason(err error) string {
	var me *consumer.MessageError
	if errors.As(err, &me) {
		if me.Err != nil {
			return me.Kind.Error() + ": " + me.Reason + ": " + me.Err.Error()
		}
		return me.Kind.Error() + ": " + me.Reason
	}
	return err.Error()
}
