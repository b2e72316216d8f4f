package events

import (
	"strconv"

	"github.com/segmentio/kafka-go"
)

// Kafka header names of vitseg's messages. The CloudEvents attributes of
// event messages are in cloudevents.go; the W3C trace context travels in the
// traceparent and tracestate headers that OpenTelemetry's propagator names.
const (
	// HeaderContentType is the datacontenttype of event messages
	// ("application/json").
	HeaderContentType = "content-type"
	// HeaderSchema names the JSON Schema of an event message's value:
	// ResultSchemaName or DeadLetterSchemaName.
	HeaderSchema = "vitseg-schema"
	// HeaderAttempt is the 1-based attempt number of a reference: absent on
	// a first delivery, 2 on the first replay, and so on.
	HeaderAttempt = "vitseg-attempt"
	// HeaderReplayOf is the event_id of the dead letter a replay came from.
	HeaderReplayOf = "vitseg-replay-of"
)

// Attempt returns the attempt number that headers carry: the last
// HeaderAttempt header holding a positive integer, else 1.
func Attempt(headers []kafka.Header) int {
	attempt := 1
	for _, h := range headers {
		if h.Key != HeaderAttempt {
			continue
		}
		if n, err := strconv.Atoi(string(h.Value)); err == nil && n > 0 {
			attempt = n
		}
	}
	return attempt
}
