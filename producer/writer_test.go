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

// TestFailures: the error of one try names how many messages failed and the first cause, per message when
// the broker answered per message.
func TestFailures(t *testing.T) {
	msgs := []kafka.Message{{Value: []byte("a")}, {Value: []byte("b")}, {Value: []byte("c")}}
	refused := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	tests := []struct {
		name   string
		err    error
		failed int
		cause  error
	}{
		{"connection refused", refused, 3, refused},
		{"unexpected EOF", io.ErrUnexpectedEOF, 3, io.ErrUnexpectedEOF},
		{"leader moved", kafka.NotLeaderForPartition, 3, kafka.NotLeaderForPartition},
		{"partial", kafka.WriteErrors{nil, kafka.LeaderNotAvailable, nil}, 1, kafka.LeaderNotAvailable},
		{"two failed, first cause", kafka.WriteErrors{kafka.NotEnoughReplicas, nil, kafka.MessageSizeTooLarge}, 2, kafka.NotEnoughReplicas},
	}
	for _, tt := range tests {
		failed, cause := failures(msgs, tt.err)
		if failed != tt.failed || !errors.Is(cause, tt.cause) {
			t.Errorf("%s: %d failed, cause %v; want %d, %v", tt.name, failed, cause, tt.failed, tt.cause)
		}
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

// TestPublishTriesOnce publishes to a port where nothing listens: the one try fails with the connection's
// error, long before the context ends (the caller owns the retries); a context that ends first wins.
func TestPublishTriesOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a closed port: connection refused
	w, err := NewWriter(WriterConfig{Brokers: []string{addr}, ResultTopic: "r", DeadLetterTopic: "d"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = w.PublishResults(ctx, eventstest.Result())
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "1 of 1 messages not written") {
		t.Errorf("PublishResults = %v (context: %v), want one failed try", err, ctx.Err())
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if err := w.PublishResults(done, eventstest.Result()); !errors.Is(err, context.Canceled) {
		t.Errorf("PublishResults with an ended context = %v, want context.Canceled", err)
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
