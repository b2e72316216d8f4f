package kafkaconn_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/kafkaconn"
)

// TestReadAll reads every partition of a real broker's topic to its end, and an empty topic as nothing.
func TestReadAll(t *testing.T) {
	k := testenv.StartKafka(t, testenv.WithTopics(testenv.Topic{Name: "full", Partitions: 3}, testenv.Topic{Name: "empty", Partitions: 2}))
	w := &kafka.Writer{Addr: kafka.TCP(k.Brokers()...), Topic: "full", Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var sent []string
	for i := range 10 {
		v := fmt.Sprintf("m%02d", i)
		sent = append(sent, v)
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte(v), Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	// The first bootstrap broker is down: the read goes through the next one.
	down := []string{"127.0.0.1:1"}
	src := kafkaconn.Cluster{Brokers: append(down, k.Brokers()...), Dialer: &kafka.Dialer{Timeout: 2 * time.Second}}
	var got []string
	if err := src.Scan(ctx, "full", func(m kafka.Message) error { got = append(got, string(m.Value)); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(sent) {
		t.Errorf("read %v, want %v", got, sent)
	}
	n := 0
	if err := src.Scan(ctx, "empty", func(kafka.Message) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("empty topic: %d messages, err %v", n, err)
	}
	stop := errors.New("stop")
	if err := src.Scan(ctx, "full", func(kafka.Message) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("handler error not returned: %v", err)
	}
}
