package pipeline

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/producer"
)

// consume fetches messages until ctx ends, tracking each in the watermark and fanning out its references.
func (p *Pipeline) consume(ctx, workCtx context.Context, out chan<- *job) error {
	for {
		msg, err := p.deps.Reader.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.kafkaOK.Store(false)
			p.log.Warn("fetch failed; retrying", zap.Error(err))
			p.metrics.retries.WithLabelValues("kafka_fetch").Inc()
			select {
			case <-time.After(p.cfg.RetryMin):
				continue
			case <-ctx.Done():
				return nil
			}
		}
		received := time.Now()
		p.metrics.consumed.Inc()
		p.metrics.lag.Set(float64(p.deps.Reader.Lag()))
		if p.wm.Track(msg.Partition, msg.Offset) {
			p.log.Info("partition restarted (rebalance or redelivery)", zap.Int("partition", msg.Partition),
				zap.Int64("offset", msg.Offset))
		}
		p.metrics.inFlight.Set(float64(p.wm.InFlight()))
		m := &message{msg: msg}
		refs, err := consumer.ParseMessage(msg.Value)
		if err != nil {
			p.reject(workCtx, m, nil, err)
			continue
		}
		var accepted []consumer.ImageRef
		for _, ref := range refs {
			if err := p.deps.Filter.Check(ref); err != nil {
				if errors.Is(err, consumer.ErrIgnored) {
					p.metrics.ignored.Inc()
					continue
				}
				if len(refs) == 1 {
					p.reject(workCtx, m, &ref, err)
					accepted = nil
					break
				}
				if !p.deadLetter(workCtx, m, producer.ClassNotAllowed, reason(err), &ref) {
					// Shutdown before this record's dead letter was written: leave the whole message
					// uncommitted, to be redelivered.
					return nil
				}
				continue
			}
			accepted = append(accepted, ref)
		}
		if class, why := p.admission(msg, received); class != "" && len(accepted) > 0 {
			if !p.refuse(workCtx, m, accepted, class, why) {
				return nil // Shutdown before the dead letters were written: redelivered later.
			}
			continue
		}
		if len(accepted) == 0 {
			p.finishMessage(m)
			continue
		}
		m.pending.Store(int32(len(accepted)))
		for _, ref := range accepted {
			select {
			case out <- p.newJob(m, ref, received):
			case <-ctx.Done():
				// Shutdown while the queue is full: this message stays uncommitted and will be redelivered.
				return nil
			}
		}
	}
}

// reject handles a message that yields no work: ignored messages are just finished; others are dead-lettered.
func (p *Pipeline) reject(ctx context.Context, m *message, ref *consumer.ImageRef, err error) {
	switch {
	case errors.Is(err, consumer.ErrIgnored):
		p.metrics.ignored.Inc()
		p.finishMessage(m)
	case errors.Is(err, consumer.ErrNotAllowed):
		if p.deadLetter(ctx, m, producer.ClassNotAllowed, reason(err), ref) {
			p.finishMessage(m)
		}
	default:
		if p.deadLetter(ctx, m, producer.ClassMalformedMessage, reason(err), ref) {
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
