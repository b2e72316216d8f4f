package producer_test

import (
	"fmt"
	"time"

	"github.com/vitseg/vitseg/producer"
)

// A result event is built with NewResult, which sets its schema version, deterministic ID and UTC time;
// segmenting the same object version with the same model again gives the same ID.
func ExampleNewResult() {
	src := producer.Source{Bucket: "pets", Key: "uploads/cat.jpg", ETag: "08a83d66", Size: 48213}
	model := producer.ModelRef{Name: "vitseg", Version: "000003"}
	mask := producer.MaskRef{Bucket: "pets", Key: "masks/uploads/cat.jpg.08a83d66.000003.mask.png", KeyForm: producer.MaskKeyDerived}
	at := time.Date(2026, 11, 27, 9, 30, 0, 0, time.FixedZone("CET", 3600))

	ev := producer.NewResult(src, model, mask, at)
	ev.Image = producer.ImageSize{Width: 500, Height: 375}
	ev.ClassFractions = producer.ClassFractions{Pet: 0.41, Background: 0.52, Border: 0.07}

	again := producer.NewResult(src, model, mask, at.Add(time.Hour))
	fmt.Println(ev.SchemaVersion == producer.SchemaVersion, ev.EventID == again.EventID)
	fmt.Println(ev.ProcessedAt)
	fmt.Println(ev.Validate())
	// Output:
	// true true
	// 2026-11-27 08:30:00 +0000 UTC
	// <nil>
}
