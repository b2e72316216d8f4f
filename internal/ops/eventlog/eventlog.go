// Package eventlog reads vitseg's event topics, the one way the commands do:
// every message's value goes through the decoder of its event kind
// (events.DecodeResult, events.DecodeDeadLetter: unmarshal and validate), and
// messages that do not decode are counted, never guessed at.
package eventlog

import (
	"context"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/kafkaconn"
)

// Decoder decodes and validates the value of one event message.
type Decoder[T any] func(value []byte) (T, error)

// Read returns the events of topic that decode, in topic order (partition after partition), to the end the
// topic has when the read starts, and how many messages did not decode.
func Read[T any](ctx context.Context, c kafkaconn.Cluster, topic string, decode Decoder[T]) (evs []T, skipped int, err error) {
	err = c.Scan(ctx, topic, func(m kafka.Message) error {
		e, err := decode(m.Value)
		if err != nil {
			skipped++
			return nil
		}
		evs = append(evs, e)
		return nil
	})
	return evs, skipped, err
}

// Follow calls handle with every event of topic that decodes, from the first retained message on, in the
// background until ctx ends (one goroutine per partition); messages that do not decode are left out. It
// returns once the readers are started.
func Follow[T any](ctx context.Context, c kafkaconn.Cluster, topic string, decode Decoder[T], handle func(T)) error {
	return c.Follow(ctx, topic, func(m kafka.Message) {
		if e, err := decode(m.Value); err == nil {
			handle(e)
		}
	})
}
