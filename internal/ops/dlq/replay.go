package dlq

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
)

// ErrNotReplayable is wrapped by Replay's error for a letter that cannot be turned back into its reference.
var ErrNotReplayable = errors.New("dead letter cannot be replayed")

// Attempt is the attempt number of the message e dead-lettered (events.HeaderAttempt of its copy; 1 when
// absent).
func Attempt(e events.DeadLetterEvent) int {
	return events.Attempt(originalHeaders(e))
}

// originalHeaders decodes the headers of e's copy of the original message, dropping those that were cut.
func originalHeaders(e events.DeadLetterEvent) []kafka.Header {
	var out []kafka.Header
	for _, h := range e.Original.Headers {
		if b, err := h.Value.Bytes(); err == nil && !h.Value.Truncated {
			out = append(out, kafka.Header{Key: h.Key, Value: b})
		}
	}
	return out
}

// Replay returns the input message that redrives e: a plain reference {"bucket","key"} to its source object
// (or, for a letter without one, the original value, when it was kept whole), keyed like the original, with
// the original's headers (a traceparent, say) and events.HeaderAttempt one above the letter's attempt and
// events.HeaderReplayOf its event_id. The pipeline derives the mask key and the result's event_id from the
// object and the model, so replaying the same object twice writes the same mask and the same event.
func Replay(e events.DeadLetterEvent) (kafka.Message, error) {
	var value []byte
	switch {
	case e.Source != nil:
		b, err := json.Marshal(events.Reference{Bucket: e.Source.Bucket, Key: e.Source.Key})
		if err != nil {
			return kafka.Message{}, fmt.Errorf("dlq: %w", err)
		}
		value = b
	case e.Original.Value.Truncated:
		return kafka.Message{}, fmt.Errorf("%w: %s has no source object and its original value was truncated", ErrNotReplayable, e.EventID)
	default:
		b, err := e.Original.Value.Bytes()
		if err != nil {
			return kafka.Message{}, fmt.Errorf("%w: %s: %w", ErrNotReplayable, e.EventID, err)
		}
		value = b
	}
	msg := kafka.Message{Value: value}
	if k := e.Original.Key; k != nil && !k.Truncated {
		if b, err := k.Bytes(); err == nil {
			msg.Key = b
		}
	}
	if msg.Key == nil && e.Source != nil {
		msg.Key = []byte(e.Source.Key)
	}
	for _, h := range originalHeaders(e) {
		if h.Key != events.HeaderAttempt && h.Key != events.HeaderReplayOf {
			msg.Headers = append(msg.Headers, h)
		}
	}
	msg.Headers = append(msg.Headers,
		kafka.Header{Key: events.HeaderAttempt, Value: []byte(strconv.Itoa(Attempt(e) + 1))},
		kafka.Header{Key: events.HeaderReplayOf, Value: []byte(e.EventID)})
	return msg, nil
}
