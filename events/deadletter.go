package events

import (
	"time"

	"github.com/segmentio/kafka-go"
)

// Limits applied to dead-letter events so that one always fits in a Kafka
// message.
const (
	// MaxPayloadBytes is the most bytes of an original message's value (and
	// of each key and header value) copied into a dead-letter event.
	MaxPayloadBytes = 64 << 10
	// MaxOriginalBytes is the most bytes of an original message copied into
	// a dead-letter event in all: the value first, then the key, then the
	// header values in order, each also bounded by MaxPayloadBytes. Together
	// with MaxHeaderKeyBytes and the encoding rule of payloads it keeps
	// every dead-letter event well under Kafka's default 1 MB message limit,
	// whatever the original message holds.
	MaxOriginalBytes = 256 << 10
	// MaxHeaderKeyBytes is the longest original header key kept.
	MaxHeaderKeyBytes = 256
	// MaxReasonBytes is the longest reason kept in a dead-letter event.
	MaxReasonBytes = 1024
	// MaxHeaders is the most original headers copied into a dead-letter event.
	MaxHeaders = 32
)

// DeadLetterEvent records an input message that could not be processed. Its
// JSON form is described by DeadLetterSchema.
type DeadLetterEvent struct {
	SchemaVersion int             `json:"schema_version"`
	EventID       string          `json:"event_id"`
	Original      OriginalMessage `json:"original"`
	ErrorClass    ErrorClass      `json:"error_class"`
	// Reason is a short explanation, at most MaxReasonBytes.
	Reason string `json:"reason"`
	// Source is the referenced object, when the message could be parsed.
	Source   *ObjectRef `json:"source,omitempty"`
	FailedAt time.Time  `json:"failed_at"`
}

// OriginalMessage is the dead-lettered input message.
type OriginalMessage struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	// Key is nil (JSON null) when the message had no key.
	Key     *Payload `json:"key"`
	Value   Payload  `json:"value"`
	Headers []Header `json:"headers"`
}

// Header is a header of an original message.
type Header struct {
	Key   string  `json:"key"`
	Value Payload `json:"value"`
}

// NewOriginal copies msg: each payload bounded by MaxPayloadBytes and encoded as text or base64, all
// of them by MaxOriginalBytes, at most MaxHeaders headers, header keys cut to
// MaxHeaderKeyBytes.
func NewOriginal(msg kafka.Message) OriginalMessage {
	o := OriginalMessage{
		Topic:     msg.Topic,
		Partition: msg.Partition,
		Offset:    msg.Offset,
		Headers:   make([]Header, 0, min(len(msg.Headers), MaxHeaders)),
	}
	budget := MaxOriginalBytes
	take := func(b []byte) Payload {
		limit := min(MaxPayloadBytes, budget)
		budget -= min(len(b), limit)
		return newPayload(b, limit)
	}
	o.Value = take(msg.Value)
	if msg.Key != nil {
		k := take(msg.Key)
		o.Key = &k
	}
	for _, h := range msg.Headers[:min(len(msg.Headers), MaxHeaders)] {
		o.Headers = append(o.Headers, Header{Key: truncateUTF8(h.Key, MaxHeaderKeyBytes), Value: take(h.Value)})
	}
	return o
}

// NewDeadLetter returns the dead-letter event for msg, failed at now with
// class and reason (cut to MaxReasonBytes), about the object version object
// (its bucket and key are the event's source), or about the message as a
// whole when object is nil. The event ID is DeadLetterEventID's.
func NewDeadLetter(msg kafka.Message, class ErrorClass, reason string, object *ObjectVersion, now time.Time) DeadLetterEvent {
	var source *ObjectRef
	if object != nil {
		source = &ObjectRef{Bucket: object.Bucket, Key: object.Key}
	}
	return DeadLetterEvent{
		SchemaVersion: SchemaVersion,
		EventID:       DeadLetterEventID(msg.Topic, msg.Partition, msg.Offset, object),
		Original:      NewOriginal(msg),
		ErrorClass:    class,
		Reason:        truncateUTF8(reason, MaxReasonBytes),
		Source:        source,
		FailedAt:      now.UTC(),
	}
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return string(trimPartialRune([]byte(s[:n]), true))
}

// Validate checks the invariants the JSON Schema states.
func (e DeadLetterEvent) Validate() error {
	var p problems
	p.envelope(e.SchemaVersion, e.EventID)
	o := e.Original
	if o.Topic == "" || o.Partition < 0 || o.Offset < 0 {
		p.add("original topic/partition/offset %q/%d/%d is not a message position", o.Topic, o.Partition, o.Offset)
	}
	payloads := []Payload{o.Value}
	if o.Key != nil {
		payloads = append(payloads, *o.Key)
	}
	if len(o.Headers) > MaxHeaders {
		p.add("original has %d headers, over %d", len(o.Headers), MaxHeaders)
	}
	for _, h := range o.Headers {
		payloads = append(payloads, h.Value)
	}
	for _, pl := range payloads {
		if err := pl.validate(); err != nil {
			p.add("original payload: %w", err)
		}
	}
	if !e.ErrorClass.Valid() {
		p.add("error_class %q is not one of %v", e.ErrorClass, ErrorClasses())
	}
	if e.Reason == "" || len(e.Reason) > MaxReasonBytes {
		p.add("reason must be 1 to %d bytes, is %d", MaxReasonBytes, len(e.Reason))
	}
	if e.Source != nil && (e.Source.Bucket == "" || e.Source.Key == "") {
		p.add("source, when present, needs a bucket and a key")
	}
	if e.FailedAt.IsZero() {
		p.add("failed_at is not set")
	}
	return p.err("dead letter")
}
