package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
)

// admission decides whether a consumed message may be processed. It returns the dead-letter class and reason
// of a message replayed more often than MaxAttempts allows, or older (by its Kafka timestamp) than MaxAge when
// that is set; "" when the message may go on.
func (p *Pipeline) admission(msg kafka.Message, now time.Time) (events.ErrorClass, string) {
	if n := events.Attempt(msg.Headers); n > p.cfg.MaxAttempts {
		return events.ClassAttemptsExhausted, fmt.Sprintf("attempt %d is over the limit of %d attempts", n, p.cfg.MaxAttempts)
	}
	if p.cfg.MaxAge > 0 && !msg.Time.IsZero() {
		if age := now.Sub(msg.Time); age > p.cfg.MaxAge {
			return events.ClassExpired, fmt.Sprintf("reference is %s old, over the limit of %s",
				age.Round(time.Millisecond), p.cfg.MaxAge)
		}
	}
	return "", ""
}

// refuse dead-letters every reference of m with class and finishes m. It reports whether all the dead letters
// were written; if not (shutdown), m stays uncommitted.
func (p *Pipeline) refuse(ctx context.Context, m *message, refs []consumer.ImageRef, class events.ErrorClass, why string) bool {
	for i := range refs {
		if !p.deadLetter(ctx, m, class, why, &refs[i]) {
			return false
		}
	}
	p.finishMessage(m)
	return true
}
