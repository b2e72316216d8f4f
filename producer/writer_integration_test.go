package producer

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/events/eventstest"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
)

// These tests run against the real dev broker process that internal/testsupport/testenv
// starts on loopback.

const (
	resultTopic = "vitseg.results"
	dlqTopic    = "vitseg.deadletter"
)

func startBroker(t *testing.T) *testenv.Kafka {
	t.Helper()
	return testenv.StartKafka(t, testenv.WithTopics(
		testenv.Topic{Name: resultTopic, Partitions: 3},
		testenv.Topic{Name: dlqTopic, Partitions: 2},
	))
}

func newTestWriter(t *testing.T, brokers []string) *Writer {
	t.Helper()
	w, err := NewWriter(WriterConfig{
		Brokers: brokers, ResultTopic: resultTopic, DeadLetterTopic: dlqTopic,
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// readAll reads n messages of topic from the beginning, in a fresh group.
func readAll(t *testing.T, brokers []string, topic string, n int) []kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, GroupID: fmt.Sprintf("check-%s-%d", topic, time.Now().UnixNano()), Topic: topic,
		StartOffset: kafka.FirstOffset, SessionTimeout: 6 * time.Second, MaxWait: 250 * time.Millisecond,
	})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := make([]kafka.Message, 0, n)
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("read %d of %d messages from %s: %v", len(out), n, topic, err)
		}
		out = append(out, m)
	}
	// Nothing more than n (no duplicates from retries in a healthy run).
	short, cancelShort := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancelShort()
	if m, err := r.FetchMessage(short); err == nil {
		t.Errorf("unexpected extra message on %s: %s", topic, m.Value)
	}
	return out
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// TestPublishResultsArriveKeyedAndValid publishes result events for several
// sources and reads them back: each is keyed by its source key, all events
// of one key share the partition the Hash balancer picks, and every value
// validates against the published schema and decodes to what was sent.
func TestPublishResultsArriveKeyedAndValid(t *testing.T) {
	k := startBroker(t)
	w := newTestWriter(t, k.Brokers())
	sch := eventstest.CompileSchema(t, events.ResultSchemaID, events.ResultSchema())

	var sent []events.ResultEvent
	for i := range 12 {
		e := eventstest.Result()
		e.Source.Key = fmt.Sprintf("photos/pet-%d.jpg", i%4)
		e.Source.ETag = fmt.Sprintf("etag-%d", i)
		e.EventID = "" // filled in by PublishResults
		e.ProcessedAt = time.Time{}
		if i%3 == 0 {
			e.PetBBox = nil
		}
		sent = append(sent, e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := time.Now().UTC()
	if err := w.PublishResults(ctx, sent[:5]...); err != nil {
		t.Fatalf("PublishResults: %v", err)
	}
	for _, e := range sent[5:] { // one at a time, as the pipeline may
		if err := w.PublishResults(ctx, e); err != nil {
			t.Fatalf("PublishResults: %v", err)
		}
	}

	got := readAll(t, k.Brokers(), resultTopic, len(sent))
	partitionOf := make(map[string]int)
	byETag := make(map[string]events.ResultEvent)
	for _, m := range got {
		if err := eventstest.ValidateJSON(t, sch, m.Value); err != nil {
			t.Errorf("event fails the schema: %v\n%s", err, m.Value)
		}
		var e events.ResultEvent
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != e.Source.Key {
			t.Errorf("message key %q, source key %q", m.Key, e.Source.Key)
		}
		if p, ok := partitionOf[e.Source.Key]; ok && p != m.Partition {
			t.Errorf("key %s on partitions %d and %d", e.Source.Key, p, m.Partition)
		}
		partitionOf[e.Source.Key] = m.Partition
		want := (&kafka.Hash{}).Balance(kafka.Message{Key: m.Key}, 0, 1, 2)
		if m.Partition != want {
			t.Errorf("key %s on partition %d, Hash balancer says %d", m.Key, m.Partition, want)
		}
		if header(m, events.HeaderSchema) != "result-v1" || header(m, events.HeaderContentType) != "application/json" {
			t.Errorf("headers %v", m.Headers)
		}
		if e.ProcessedAt.Before(before.Add(-time.Second)) || e.ProcessedAt.Location() != time.UTC {
			t.Errorf("processed_at %v not filled in as now, UTC", e.ProcessedAt)
		}
		byETag[e.Source.ETag] = e
	}
	for _, s := range sent {
		e, ok := byETag[s.Source.ETag]
		if !ok {
			t.Errorf("event for %s lost", s.Source.ETag)
			continue
		}
		if e.EventID != events.ResultEventID(s.Source, s.Model) || e.SchemaVersion != events.SchemaVersion {
			t.Errorf("event id %s version %d", e.EventID, e.SchemaVersion)
		}
		e.EventID, e.ProcessedAt, e.SchemaVersion = "", time.Time{}, s.SchemaVersion
		if !reflect.DeepEqual(e, s) {
			t.Errorf("round trip changed the event:\n got %+v\nsent %+v", e, s)
		}
	}
}

// TestPublishDeadLettersArriveValid publishes dead letters and reads them
// back from the dead-letter topic.
func TestPublishDeadLettersArriveValid(t *testing.T) {
	k := startBroker(t)
	w := newTestWriter(t, k.Brokers())
	sch := eventstest.CompileSchema(t, events.DeadLetterSchemaID, events.DeadLetterSchema())

	withSource := eventstest.DeadLetter()
	withSource.Source = &events.ObjectRef{Bucket: "pets", Key: "gone.jpg"}
	withSource.ErrorClass = events.ClassMissingObject
	withSource.Original.Offset++
	withSource.EventID = events.DeadLetterEventID(withSource.Original.Topic, withSource.Original.Partition, withSource.Original.Offset, &events.ObjectVersion{Bucket: "pets", Key: "gone.jpg"})
	noKey := events.NewDeadLetter(kafka.Message{Topic: "vitseg.images", Offset: 7, Value: []byte{0xff, 0xd8, 0xff}}, events.ClassMalformedMessage,
		"malformed message: not a JSON object", nil, time.Now())
	sent := []events.DeadLetterEvent{eventstest.DeadLetter(), withSource, noKey}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.PublishDeadLetters(ctx, sent...); err != nil {
		t.Fatalf("PublishDeadLetters: %v", err)
	}
	wantKey := map[string]string{
		sent[0].EventID: "pets/x.jpg", // the original key
		sent[1].EventID: "gone.jpg",   // the source key
		sent[2].EventID: "",           // none
	}
	for _, m := range readAll(t, k.Brokers(), dlqTopic, len(sent)) {
		if err := eventstest.ValidateJSON(t, sch, m.Value); err != nil {
			t.Errorf("dead letter fails the schema: %v\n%s", err, m.Value)
		}
		var e events.DeadLetterEvent
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatal(err)
		}
		key, ok := wantKey[e.EventID]
		if !ok {
			t.Errorf("unexpected event %s", e.EventID)
			continue
		}
		delete(wantKey, e.EventID)
		if string(m.Key) != key {
			t.Errorf("event %s keyed %q, want %q", e.EventID, m.Key, key)
		}
		if header(m, events.HeaderSchema) != "deadletter-v1" {
			t.Errorf("headers %v", m.Headers)
		}
		if err := e.Validate(); err != nil {
			t.Errorf("decoded event invalid: %v", err)
		}
	}
	if len(wantKey) != 0 {
		t.Errorf("events lost: %v", wantKey)
	}
}

// TestPublishToMissingTopicFails checks that the writer does not create
// topics: publishing to one that does not exist fails, and the topic still
// does not exist.
func TestPublishToMissingTopicFails(t *testing.T) {
	k := startBroker(t)
	w, err := NewWriter(WriterConfig{Brokers: k.Brokers(), ResultTopic: "no.such.topic", DeadLetterTopic: dlqTopic})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := w.PublishResults(ctx, eventstest.Result()); err == nil {
		t.Fatal("PublishResults to a missing topic succeeded")
	}
	c := &kafka.Client{Addr: kafka.TCP(k.Brokers()...), Timeout: 10 * time.Second}
	meta, err := c.Metadata(context.Background(), &kafka.MetadataRequest{Topics: []string{"no.such.topic"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range meta.Topics {
		if topic.Name == "no.such.topic" && topic.Error == nil {
			t.Errorf("the writer created topic %s", topic.Name)
		}
	}
}

// TestPublishAcrossBrokerRestart stops the broker: a publish fails (one try, the caller retries) and leaves
// nothing behind; after the restart the same Writer publishes again, and exactly the events that succeeded are
// stored.
func TestPublishAcrossBrokerRestart(t *testing.T) {
	k := startBroker(t)
	w := newTestWriter(t, k.Brokers())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.PublishResults(ctx, eventstest.Result()); err != nil { // connections are warm
		t.Fatalf("first publish: %v", err)
	}
	k.Stop()
	lost := eventstest.Result()
	lost.Source.Key = "photos/while-down.jpg"
	lost.EventID = events.ResultEventID(lost.Source, lost.Model)
	if err := w.PublishResults(ctx, lost); err == nil {
		t.Fatal("publish succeeded while the broker was down")
	}
	k.Restart()
	second := eventstest.Result()
	second.Source.Key = "photos/after-restart.jpg"
	second.EventID = events.ResultEventID(second.Source, second.Model)
	var err error
	for err = w.PublishResults(ctx, second); err != nil && ctx.Err() == nil; err = w.PublishResults(ctx, second) {
		time.Sleep(100 * time.Millisecond) // the broker is coming back: the caller's retry
	}
	if err != nil {
		t.Fatalf("publish after the restart: %v", err)
	}
	got := readAll(t, k.Brokers(), resultTopic, 2)
	keys := map[string]int{}
	for _, m := range got {
		keys[string(m.Key)]++
	}
	if keys["photos/after-restart.jpg"] < 1 || keys[eventstest.Result().Source.Key] != 1 || keys["photos/while-down.jpg"] != 0 {
		t.Errorf("stored keys %v", keys)
	}
}
