package kafkaconn

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// Probe reports whether a connection to one of the brokers can be opened: a readiness check of the cluster
// (clients bootstrap from any broker, so one broker down does not make the cluster unreachable).
func (c Cluster) Probe(ctx context.Context) error {
	if len(c.Brokers) == 0 {
		return errors.New("kafkaconn: no brokers")
	}
	conn, err := c.dialAny(func(addr string) (*kafka.Conn, error) { return c.dialer().DialContext(ctx, "tcp", addr) })
	if err != nil {
		return fmt.Errorf("kafkaconn: %w", err)
	}
	return conn.Close()
}
