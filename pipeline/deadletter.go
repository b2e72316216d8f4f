package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/producer"
)

// deadLetter produces a dead-letter event, retrying transient failures until ctx ends. It reports whether the
// event was durably written (only then may the message be committed).
func (p *Pipeline) deadLetter(ctx context.Context, m *message, class events.ErrorClass, why string, ref *consumer.ImageRef) bool {
	ctx = messageContext(ctx, m)
	var object *events.ObjectVersion
	if ref != nil {
		object = &events.ObjectVersion{Bucket: ref.Bucket, Key: ref.Key, ETag: ref.ETag}
	}
	ev := events.NewDeadLetter(m.msg, class, why, object, time.Now().UTC())
	stripped := false
	err := p.retry.produceDeadLetter.do(ctx, func() error {
		err := p.deps.Writer.PublishDeadLetters(ctx, ev)
		if tooLarge(err) && !stripped {
			// Retrying cannot help: write the event without the copy of the original message.
			p.log.Warn("dead-letter event too large for its topic; writing it without the original message", zap.Error(err))
			ev, stripped = withoutOriginalPayload(ev), true
			err = p.deps.Writer.PublishDeadLetters(ctx, ev)
		}
		return err
	})
	if err != nil {
		p.log.Error("dead-letter event not written; the message stays uncommitted", zap.Error(err))
		return false
	}
	p.metrics.failed.WithLabelValues(string(class)).Inc()
	p.metrics.deadLettered.WithLabelValues(string(class)).Inc()
	if version, _ := p.modelVer.Load().(string); version != "" {
		p.live.add(version, func(s *registry.LiveStats) { s.DeadLetters++ })
	}
	p.log.Warn("dead-lettered", zap.String("class", string(class)), zap.String("reason", why),
		zap.Int("partition", m.msg.Partition), zap.Int64("offset", m.msg.Offset))
	return true
}

// deadLetterTransient reports whether writing a dead letter again may succeed.
func deadLetterTransient(err error) bool {
	return !errors.Is(err, events.ErrInvalidEvent) && !errors.Is(err, producer.ErrClosed)
}

// tooLarge reports whether a produce failed because the message is over the client's or the topic's size limit.
func tooLarge(err error) bool {
	return errors.Is(err, kafka.MessageSizeTooLarge) || errors.As(err, new(kafka.MessageTooLargeError))
}

// withoutOriginalPayload drops the copied key, value and headers of a dead-letter event, keeping the sizes.
func withoutOriginalPayload(ev events.DeadLetterEvent) events.DeadLetterEvent {
	empty := func(p events.Payload) events.Payload {
		return events.Payload{Encoding: events.EncodingUTF8, Size: p.Size, Truncated: p.Size > 0}
	}
	ev.Original.Value = empty(ev.Original.Value)
	if k := ev.Original.Key; k != nil {
		e := empty(*k)
		ev.Original.Key = &e
	}
	ev.Original.Headers = []events.Header{}
	return ev
}
