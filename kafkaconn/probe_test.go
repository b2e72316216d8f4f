package kafkaconn_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/kafkaconn"
)

// TestProbeTriesEveryBroker: the Kafka readiness probe passes while any bootstrap broker accepts a
// connection, not only the first one listed.
func TestProbeTriesEveryBroker(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := down.Addr().String()
	down.Close() // Nothing listens there any more: connections are refused.

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	dialer := &kafka.Dialer{Timeout: time.Second}
	if err := (kafkaconn.Cluster{Brokers: []string{downAddr, up.Addr().String()}, Dialer: dialer}).Probe(ctx); err != nil {
		t.Fatalf("probe with the second broker up: %v", err)
	}
	if err := (kafkaconn.Cluster{Brokers: []string{downAddr}, Dialer: dialer}).Probe(ctx); err == nil {
		t.Fatal("probe with every broker down passed")
	}
}
