package producer

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/cloudevents/sdk-go/protocol/kafka_sarama/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/propagation"
	"go.uber.org/zap/zaptest"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/events/eventstest"
)

// ceEvent reads m as the CloudEvents SDK's Kafka binding does (the official reader, independent of this
// package), checks it is a binary-mode message and returns its attributes and data.
func ceEvent(t *testing.T, m kafka.Message) (attrs map[string]string, data []byte) {
	t.Helper()
	cm := &sarama.ConsumerMessage{Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset, Key: m.Key, Value: m.Value}
	for _, h := range m.Headers {
		cm.Headers = append(cm.Headers, &sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
	}
	msg := kafka_sarama.NewMessageFromConsumerMessage(cm)
	if enc := msg.ReadEncoding(); enc != binding.EncodingBinary {
		t.Fatalf("the CloudEvents Kafka binding reads encoding %v, want binary; headers %v", enc, m.Headers)
	}
	ev, err := binding.ToEvent(context.Background(), msg)
	if err != nil {
		t.Fatalf("the CloudEvents Kafka binding cannot read the message: %v", err)
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("not a valid CloudEvent: %v", err)
	}
	attrs = map[string]string{"specversion": ev.SpecVersion(), "id": ev.ID(), "source": ev.Source(), "type": ev.Type(),
		"subject": ev.Subject(), "dataschema": ev.DataSchema(), "datacontenttype": ev.DataContentType(),
		"time": ev.Time().UTC().Format(time.RFC3339Nano)}
	return attrs, ev.Data()
}

// TestEventsAreBinaryCloudEvents publishes a result and dead letters (with and without a source object)
// through a real broker and reads them back with the CloudEvents SDK's Kafka binding: every attribute the
// binding requires is there with the value the event body implies, and the data is the JSON body unchanged.
func TestEventsAreBinaryCloudEvents(t *testing.T) {
	k := startBroker(t)
	w, err := NewWriter(WriterConfig{Brokers: k.Brokers(), ResultTopic: resultTopic, DeadLetterTopic: dlqTopic,
		EventSource: "/vitseg/groups/test", Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
	result := eventstest.Result()
	withSource := eventstest.DeadLetter()
	withSource.Source = &events.ObjectRef{Bucket: "pets", Key: "gone.jpg"}
	noSource := eventstest.DeadLetter()
	noSource.Original.Offset++
	noSource.EventID = events.DeadLetterEventID(noSource.Original.Topic, noSource.Original.Partition, noSource.Original.Offset, nil)
	if err := w.PublishResults(ctx, result); err != nil {
		t.Fatal(err)
	}
	if err := w.PublishDeadLetters(ctx, withSource, noSource); err != nil {
		t.Fatal(err)
	}

	want := map[string]map[string]string{
		result.EventID: {"type": events.TypeResult, "subject": "pets/photos/Bengal cat 1.jpg", "dataschema": events.ResultSchemaID,
			"time": result.ProcessedAt.Format(time.RFC3339Nano)},
		withSource.EventID: {"type": events.TypeDeadLetter, "subject": "pets/gone.jpg", "dataschema": events.DeadLetterSchemaID,
			"time": withSource.FailedAt.UTC().Format(time.RFC3339Nano)},
		noSource.EventID: {"type": events.TypeDeadLetter, "subject": "", "dataschema": events.DeadLetterSchemaID,
			"time": noSource.FailedAt.UTC().Format(time.RFC3339Nano)},
	}
	msgs := append(readAll(t, k.Brokers(), resultTopic, 1), readAll(t, k.Brokers(), dlqTopic, 2)...)
	for _, m := range msgs {
		attrs, data := ceEvent(t, m)
		exp, ok := want[attrs["id"]]
		if !ok {
			t.Errorf("ce_id %q is no event_id sent", attrs["id"])
			continue
		}
		delete(want, attrs["id"])
		exp["specversion"], exp["id"], exp["source"], exp["datacontenttype"] = "1.0", attrs["id"], "/vitseg/groups/test", "application/json"
		for name, v := range exp {
			if attrs[name] != v {
				t.Errorf("event %s: %s = %q, want %q", attrs["id"], name, attrs[name], v)
			}
		}
		if !bytes.Equal(data, m.Value) || !bytes.Contains(data, []byte(`"event_id":"`+attrs["id"]+`"`)) {
			t.Errorf("data is not the JSON body unchanged:\n%s\n%s", data, m.Value)
		}
		if got := header(m, "traceparent"); got != traceparent {
			t.Errorf("traceparent %q, want the context's %q", got, traceparent)
		}
		if header(m, events.HeaderSchema) == "" {
			t.Errorf("vitseg-schema header dropped: %v", m.Headers)
		}
	}
	if len(want) > 0 {
		t.Errorf("events not read back: %v", want)
	}
}

// TestNewWriterDefaultsEventSource: without EventSource, ce_source is DefaultEventSource.
func TestNewWriterDefaultsEventSource(t *testing.T) {
	w, err := NewWriter(WriterConfig{Brokers: []string{"localhost:1"}, ResultTopic: "r", DeadLetterTopic: "d"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.cfg.EventSource != events.DefaultEventSource {
		t.Errorf("event source %q, want %q", w.cfg.EventSource, events.DefaultEventSource)
	}
}
