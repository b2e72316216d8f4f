package producer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/producer"
)

// A result event is built with NewResult, which sets its schema version, deterministic ID and UTC time;
// segmenting the same object version with the same model again gives the same ID.
func ExampleNewResult() {
	src := events.Source{Bucket: "pets", Key: "uploads/cat.jpg", ETag: "08a83d66", Size: 48213}
	model := events.ModelRef{Name: "vitseg", Version: "000003"}
	mask := events.MaskRef{Bucket: "pets", Key: "masks/uploads/cat.jpg.08a83d66.000003.mask.png", KeyForm: events.MaskKeyDerived}
	at := time.Date(2026, 11, 27, 9, 30, 0, 0, time.FixedZone("CET", 3600))

	ev := events.NewResult(src, model, mask, at)
	ev.Image = events.ImageSize{Width: 500, Height: 375}
	ev.ClassFractions = events.ClassFractions{Pet: 0.41, Background: 0.52, Border: 0.07}

	again := events.NewResult(src, model, mask, at.Add(time.Hour))
	fmt.Println(ev.SchemaVersion == events.SchemaVersion, ev.EventID == again.EventID)
	fmt.Println(ev.ProcessedAt)
	fmt.Println(ev.Validate())
	// Output:
	// true true
	// 2026-11-27 08:30:00 +0000 UTC
	// <nil>
}

// A Writer publishes a result event synchronously: once PublishResults returns, the broker has stored it and the
// input message may be committed. The event is a CloudEvents binary-mode message: its attributes are ce_
// headers, its value the JSON event, its key the source object key.
func ExampleWriter_PublishResults() {
	w, err := producer.NewWriter(producer.WriterConfig{
		Brokers:         brokers, // for instance []string{"kafka-1:9092", "kafka-2:9092"}
		ResultTopic:     "vitseg.results",
		DeadLetterTopic: "vitseg.deadletter",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()

	src := events.Source{Bucket: "pets", Key: "uploads/cat.jpg", ETag: "08a83d66", Size: 48213}
	model := events.ModelRef{Name: "vitseg", Version: "000003"}
	mask := events.MaskRef{Bucket: "pets", Key: "masks/uploads/cat.jpg.08a83d66.000003.mask.png", KeyForm: events.MaskKeyDerived}
	ev := events.NewResult(src, model, mask, time.Now())
	ev.Image = events.ImageSize{Width: 500, Height: 375}
	ev.ClassFractions = events.ClassFractions{Pet: 0.41, Background: 0.52, Border: 0.07}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.PublishResults(ctx, ev); err != nil {
		log.Fatal(err)
	}

	// What a consumer of the result topic receives.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "vitseg.results", MaxWait: time.Second})
	defer r.Close()
	msg, err := r.ReadMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("key:", string(msg.Key))
	for _, h := range msg.Headers {
		switch h.Key {
		case events.HeaderCEID, events.HeaderCETime: // the event's ID and time, shown below
		default:
			fmt.Printf("%s: %s\n", h.Key, h.Value)
		}
	}
	var got events.ResultEvent
	if err := json.Unmarshal(msg.Value, &got); err != nil {
		log.Fatal(err)
	}
	fmt.Println("event_id:", got.EventID == ev.EventID, "processed_at:", got.ProcessedAt.Equal(ev.ProcessedAt))
	fmt.Println("mask:", got.Mask.Bucket, got.Mask.Key)
	fmt.Println("model:", got.Model.Name, got.Model.Version)
	fmt.Printf("pet: %.2f of %dx%d\n", got.ClassFractions.Pet, got.Image.Width, got.Image.Height)
	// Output:
	// key: uploads/cat.jpg
	// content-type: application/json
	// ce_specversion: 1.0
	// ce_source: /vitseg
	// ce_type: io.vitseg.segmentation.result.v1
	// ce_dataschema: urn:vitseg:schema:result-v1
	// ce_subject: pets/uploads/cat.jpg
	// vitseg-schema: result-v1
	// event_id: true processed_at: true
	// mask: pets masks/uploads/cat.jpg.08a83d66.000003.mask.png
	// model: vitseg 000003
	// pet: 0.41 of 500x375
}
