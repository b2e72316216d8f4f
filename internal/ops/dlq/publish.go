package dlq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Publish writes msgs to topic through transport and waits for every acknowledgement (acks=all).
func Publish(ctx context.Context, transport *kafka.Transport, brokers []string, topic string, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, Transport: transport}
	err := w.WriteMessages(ctx, msgs...)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) {
			return fmt.Errorf("replay: %d of %d messages not written: %w", werrs.Count(), len(msgs), err)
		}
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}
