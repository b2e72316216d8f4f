package producer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/events/eventstest"
	"github.com/vitseg/vitseg/kafkaconn"
)

func TestNewWriterConfig(t *testing.T) {
	base := WriterConfig{Brokers: []string{" 127.0.0.1:9092 ", ""}, ResultTopic: "r", DeadLetterTopic: "d"}
	w, err := NewWriter(base)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.kw.BatchTimeout != DefaultBatchTimeout || w.kw.RequiredAcks != kafka.RequireAll || w.kw.AllowAutoTopicCreation {
		t.Errorf("writer: batch %v acks %v autocreate %t", w.kw.BatchTimeout, w.kw.RequiredAcks, w.kw.AllowAutoTopicCreation)
	}
	if _, ok := w.kw.Balancer.(*kafka.Hash); !ok {
		t.Errorf("balancer %T, want *kafka.Hash", w.kw.Balancer)
	}
	if w.kw.Addr.String() != "127.0.0.1:9092" {
		t.Errorf("addr %q", w.kw.Addr.String())
	}

	bad := map[string]func(c *WriterConfig){
		"no brokers":       func(c *WriterConfig) { c.Brokers = []string{" "} },
		"no result topic":  func(c *WriterConfig) { c.ResultTopic = "" },
		"no dlq topic":     func(c *WriterConfig) { c.DeadLetterTopic = "" },
		"negative timeout": func(c *WriterConfig) { c.WriteTimeout = -time.Second },
		"backoff order":    func(c *WriterConfig) { c.BackoffMin, c.BackoffMax = time.Second, time.Millisecond },
	}
	for name, change := range bad {
		c := base
		change(&c)
		if _, err := NewWriter(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	c := base
	c.Security = kafkaconn.Security{SASLMechanism: "gssapi", SASLUsername: "u", SASLPassword: "p"}
	if _, err := NewWriter(c); !errors.Is(err, kafkaconn.ErrInvalidSecurity) {
		t.Errorf("bad security: %v", err)
	}
}

func TestClassify(t *testing.T) {
	msgs := []kafka.Message{{Value: []byte("a")}, {Value: []byte("b")}, {Value: []byte("c")}}
	tests := []struct {
		name      string
		err       error
		failed    int
		permanent bool
	}{
		{"connection refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), 3, false},
		{"unexpected EOF", io.ErrUnexpectedEOF, 3, false},
		{"network timeout", &net.OpError{Op: "read", Err: context.DeadlineExceeded}, 3, false},
		{"leader moved", kafka.NotLeaderForPartition, 3, false},
		{"topic missing", kafka.UnknownTopicOrPartition, 3, false},
		{"authorization", kafka.TopicAuthorizationFailed, 3, true},
		{"too large", kafka.MessageTooLargeError{Message: msgs[0]}, 3, true},
		{"partial, transient", kafka.WriteErrors{nil, kafka.LeaderNotAvailable, nil}, 1, false},
		{"partial, one permanent", kafka.WriteErrors{kafka.NotEnoughReplicas, nil, kafka.MessageSizeTooLarge}, 2, true},
	}
	for _, tt := range tests {
		failed, cause, permanent := classify(msgs, tt.err)
		if len(failed) != tt.failed || permanent != tt.permanent || cause == nil {
			t.Errorf("%s: %d failed, permanent %t, cause %v; want %d, %t", tt.name, len(failed), permanent, cause, tt.failed, tt.permanent)
		}
	}
	failed, _, _ := classify(msgs, kafka.WriteErrors{nil, kafka.LeaderNotAvailable, nil})
	if string(failed[0].Value) != "b" {
		t.Errorf("retried the wrong message: %q", failed[0].Value)
	}
}

func TestPublishRejectsInvalidEvents(t *testing.T) {
	w, err := NewWriter(WriterConfig{Brokers: []string{"127.0.0.1:1"}, ResultTopic: "r", DeadLetterTopic: "d"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	bad := eventstest.Result()
	bad.ClassFractions.Pet = 3
	if err := w.PublishResults(context.Background(), eventstest.Result(), bad); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("PublishResults = %v, want ErrInvalidEvent", err)
	}
	dl := eventstest.DeadLetter()
	dl.ErrorClass = ""
	if err := w.PublishDeadLetters(context.Background(), dl); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("PublishDeadLetters = %v, want ErrInvalidEvent", err)
	}
	if w.kw.Stats().Writes != 0 {
		t.Error("an invalid batch reached the broker")
	}
}

// TestPublishGivesUpWithinContext publishes to a port where nothing
// listens: the write is retried until the context ends, and fails.
func TestPublishGivesUpWithinContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a closed port: connection refused
	w, err := NewWriter(WriterConfig{Brokers: []string{addr}, ResultTopic: "r", DeadLetterTopic: "d",
		MaxAttempts: 1000, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = w.PublishResults(ctx, eventstest.Result())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("PublishResults = %v, want the context's deadline", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("gave up after %v", elapsed)
	}

	few, err := NewWriter(WriterConfig{Brokers: []string{addr}, ResultTopic: "r", DeadLetterTopic: "d",
		MaxAttempts: 3, BackoffMin: time.Millisecond, BackoffMax: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer few.Close()
	err = few.PublishResults(context.Background(), eventstest.Result())
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PublishResults = %v, want failure after 3 attempts", err)
	}
	if got := err.Error(); !strings.Contains(got, "after 3 attempts") {
		t.Errorf("error %q does not count the attempts", got)
	}
}

func TestPublishAfterClose(t *testing.T) {
	w, err := NewWriter(WriterConfig{Brokers: []string{"127.0.0.1:1"}, ResultTopic: "r", DeadLetterTopic: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.PublishResults(context.Background(), eventstest.Result()); !errors.Is(err, ErrClosed) {
		t.Errorf("PublishResults after Close = %v, want ErrClosed", err)
	}
}
