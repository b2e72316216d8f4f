package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestDialProbeTriesEveryBroker: the Kafka readiness probe passes while any bootstrap broker accepts a
// connection, not only the first one listed.
func TestDialProbeTriesEveryBroker(t *testing.T) {
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
	if err := dialProbe(dialer, []string{downAddr, up.Addr().String()})(ctx); err != nil {
		t.Fatalf("probe with the second broker up: %v", err)
	}
	if err := dialProbe(dialer, []string{downAddr})(ctx); err == nil {
		t.Fatal("probe with every broker down passed")
	}
}
