package consumer

import (
	"strconv"

	"github.com/segmentio/kafka-go"
)

// Replay headers, set by `vitseg dlq replay` on the references it re-publishes.
const (
	// HeaderAttempt is the 1-based attempt number of a reference: absent on
	// a first delivery, 2 on the first replay, and so on.
	HeaderAttempt = "vitseg-attempt"
	// HeaderReplayOf is the event_id of the dead letter a replay came from.
	HeaderReplayOf = "vitseg-replay-of"
)

// Attempt returns the attempt number of msg: the last HeaderAttempt header
// holding a positive integer, else 1.
func Attempt(msg kafka.Message) int {
	attempt := 1
	for _, h := range msg.Headers {
		if h.Key != HeaderAttempt {
			continue
		}
		if n, err := strconv.Atoi(string(h.Value)); err == nil && n > 0 {
			attempt = n
		}
	}
	return attempt
}
