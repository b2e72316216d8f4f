// Package eventstest gives tests of vitseg's events fixed sample events and
// a strict JSON Schema check, as a consumer of the events would run it.
package eventstest

import (
	"bytes"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
)

// Result returns a valid result event with every field set.
func Result() events.ResultEvent {
	src := events.Source{Bucket: "pets", Key: "photos/Bengal cat 1.jpg", ETag: "08a83d6686281a5a292732435b21f83a", Size: 48213}
	model := events.ModelRef{Name: "vitseg", Version: "2026-11-27.1"}
	return events.ResultEvent{
		SchemaVersion:  events.SchemaVersion,
		EventID:        events.ResultEventID(src, model),
		Source:         src,
		Mask:           events.MaskRef{Bucket: "pets", Key: "masks/photos/Bengal cat 1.png", KeyForm: events.MaskKeyDerived},
		Model:          model,
		Image:          events.ImageSize{Width: 500, Height: 375},
		ClassFractions: events.ClassFractions{Pet: 0.41, Background: 0.52, Border: 0.07},
		PetBBox:        &events.BBox{X0: 120, Y0: 40, X1: 380, Y1: 360},
		TimingsMS:      events.Timings{Queue: 0.4, Fetch: 3.2, Decode: 5.1, Infer: 41.7, Total: 50.4},
		ProcessedAt:    time.Date(2026, 11, 27, 8, 30, 0, 123456789, time.UTC),
	}
}

// DeadLetter returns a valid dead letter of a malformed message with a
// binary header and no source object.
func DeadLetter() events.DeadLetterEvent {
	msg := kafka.Message{
		Topic: "vitseg.images", Partition: 2, Offset: 1234,
		Key:     []byte("pets/x.jpg"),
		Value:   []byte(`{"bucket":"pets","key":"../x"}`),
		Headers: []kafka.Header{{Key: "trace", Value: []byte{0xff, 0x00, 0x01}}},
	}
	return events.NewDeadLetter(msg, events.ClassMalformedMessage,
		`invalid object reference: object key "../x" has a ".." path segment`, nil,
		time.Date(2026, 11, 27, 8, 31, 0, 0, time.FixedZone("CET", 3600)))
}

// CompileSchema compiles the schema doc published as id with format and
// content assertions on, as a strict consumer of the events would.
func CompileSchema(t testing.TB, id string, doc []byte) *jsonschema.Schema {
	t.Helper()
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("schema %s is not JSON: %v", id, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AssertContent()
	if err := c.AddResource(id, parsed); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compiling %s: %v", id, err)
	}
	return sch
}

// ValidateJSON validates raw JSON against sch; raw that is not JSON fails
// the test.
func ValidateJSON(t testing.TB, sch *jsonschema.Schema, raw []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("instance is not JSON: %v", err)
	}
	return sch.Validate(inst)
}
