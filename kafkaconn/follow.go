package kafkaconn

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"
)

// Follow reads every partition of topic from its first retained message in
// the background, without end, calling handle with each message (from one
// goroutine per partition), until ctx ends. It returns once the readers are
// started, or the error of finding the partitions.
func (c Cluster) Follow(ctx context.Context, topic string, handle func(kafka.Message)) error {
	parts, err := c.Partitions(ctx, topic)
	if err != nil {
		return err
	}
	for _, p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Brokers, Topic: topic, Partition: p,
			Dialer: c.dialer(), MaxWait: 200 * time.Millisecond})
		go func() {
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				handle(m)
			}
		}()
	}
	return nil
}
