package eventlog_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/events/eventstest"
	"github.com/vitseg/vitseg/internal/ops/eventlog"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/kafkaconn"
)

// TestReadAndFollow: on a real broker, Read returns the events that decode in topic order and counts the
// others (not JSON, JSON that breaks the contract); Follow delivers the same events and leaves the others out.
func TestReadAndFollow(t *testing.T) {
	k := testenv.StartKafka(t, testenv.WithTopics(testenv.Topic{Name: "results", Partitions: 1}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first, second := eventstest.Result(), eventstest.Result()
	second.Source.Key = "photos/second.jpg"
	second.EventID = events.ResultEventID(second.Source, second.Model)
	broken := eventstest.Result()
	broken.ClassFractions.Pet = 2
	var values [][]byte
	for _, e := range []events.ResultEvent{first, broken, second} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, b)
	}
	values = append(values[:1], append([][]byte{[]byte("not json")}, values[1:]...)...)
	w := &kafka.Writer{Addr: kafka.TCP(k.Brokers()...), Topic: "results", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	for _, v := range values {
		if err := w.WriteMessages(ctx, kafka.Message{Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	cluster := kafkaconn.Cluster{Brokers: k.Brokers()}

	got, skipped, err := eventlog.Read(ctx, cluster, "results", events.DecodeResult)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].EventID != first.EventID || got[1].EventID != second.EventID || skipped != 2 {
		t.Errorf("Read = %d events, %d skipped; want the 2 valid ones in order and 2 skipped", len(got), skipped)
	}

	var mu sync.Mutex
	var followed []string
	done := make(chan struct{})
	if err := eventlog.Follow(ctx, cluster, "results", events.DecodeResult, func(e events.ResultEvent) {
		mu.Lock()
		defer mu.Unlock()
		if followed = append(followed, e.EventID); len(followed) == 2 {
			close(done)
		}
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Follow did not deliver the 2 valid events")
	}
	mu.Lock()
	defer mu.Unlock()
	if followed[0] != first.EventID || followed[1] != second.EventID {
		t.Errorf("Follow delivered %v", followed)
	}
}
