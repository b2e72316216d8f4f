package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Cluster is a Kafka cluster whose topics are read whole.
type Cluster struct {
	// Brokers are the bootstrap brokers, host:port.
	Brokers []string
	// Dialer carries the TLS and SASL settings (nil: plain TCP).
	Dialer *kafka.Dialer
}

// Scan calls handle with every message of topic, partition after partition, from the first retained offset
// to the end offset each partition had when its read began. It stops at the first error of handle.
func (c Cluster) Scan(ctx context.Context, topic string, handle func(kafka.Message) error) error {
	parts, err := c.Partitions(ctx, topic)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if err := c.readPartition(ctx, c.dialer(), topic, p, handle); err != nil {
			return err
		}
	}
	return nil
}

// Partitions returns the partition IDs of topic.
func (c Cluster) Partitions(ctx context.Context, topic string) ([]int, error) {
	if len(c.Brokers) == 0 {
		return nil, errors.New("kafkaconn: no brokers")
	}
	conn, err := c.dialAny(func(addr string) (*kafka.Conn, error) { return c.dialer().DialContext(ctx, "tcp", addr) })
	if err != nil {
		return nil, fmt.Errorf("kafkaconn: connect to Kafka: %w", err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		return nil, fmt.Errorf("kafkaconn: partitions of %s: %w", topic, err)
	}
	ids := make([]int, len(parts))
	for i, p := range parts {
		ids[i] = p.ID
	}
	return ids, nil
}

// dialAny returns the first connection dial makes through one of the bootstrap brokers, in order: one broker
// down must not stop a read.
func (c Cluster) dialAny(dial func(addr string) (*kafka.Conn, error)) (*kafka.Conn, error) {
	var errs []error
	for _, addr := range c.Brokers {
		conn, err := dial(addr)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	return nil, errors.Join(errs...)
}

func (c Cluster) dialer() *kafka.Dialer {
	if c.Dialer == nil {
		return &kafka.Dialer{Timeout: 10 * time.Second}
	}
	return c.Dialer
}

func (c Cluster) readPartition(ctx context.Context, dialer *kafka.Dialer, topic string, partition int, handle func(kafka.Message) error) error {
	leader, err := c.dialAny(func(addr string) (*kafka.Conn, error) {
		return dialer.DialLeader(ctx, "tcp", addr, topic, partition)
	})
	if err != nil {
		return fmt.Errorf("kafkaconn: leader of %s/%d: %w", topic, partition, err)
	}
	first, end, err := leader.ReadOffsets()
	leader.Close()
	if err != nil {
		return fmt.Errorf("kafkaconn: offsets of %s/%d: %w", topic, partition, err)
	}
	if end <= first {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Brokers, Topic: topic, Partition: partition, Dialer: dialer,
		MaxWait: 200 * time.Millisecond, MaxBytes: 16 << 20})
	defer r.Close()
	if err := r.SetOffset(first); err != nil {
		return fmt.Errorf("kafkaconn: %s/%d: %w", topic, partition, err)
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return fmt.Errorf("kafkaconn: %s/%d at offset %d of %d: %w", topic, partition, r.Offset(), end, err)
		}
		if err := handle(m); err != nil {
			return err
		}
		if m.Offset >= end-1 {
			return nil
		}
	}
}
