package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/pipeline"
)

// TestEndToEnd: N photos uploaded -> N masks in the bucket + N result events valid against the schema, and the
// input offsets committed to the end.
func TestEndToEnd(t *testing.T) {
	s := startStack(t)
	results := s.collect(t, resultTopic)
	in := s.startPipeline(t, pipeline.ModelSource{File: writeModel(t, exportTiny(t, "v1", 1))}, testLogger(t))
	const n = 12
	s.upload(t, names("e2e", n)...)
	waitFor(t, 90*time.Second, "12 result events", func() bool { return len(results.snapshot()) >= n })
	in.stop(t)

	schema := schemaValidator(t, "result-v1.json", events.ResultSchema())
	events := decodeResults(t, results.snapshot())
	seen := map[string]bool{}
	for i, m := range results.snapshot() {
		validateJSON(t, schema, m.Value)
		ev := events[i]
		if string(m.Key) != ev.Source.Key {
			t.Errorf("event key %q, want the source key %q", m.Key, ev.Source.Key)
		}
		seen[ev.Source.Key] = true
		if ev.Model.Version != "v1" || ev.Source.ETag == "" || ev.Image.Width == 0 {
			t.Errorf("event %d: %+v", i, ev)
		}
		obj, err := s.s3.GetObject(context.Background(), ev.Mask.Bucket, ev.Mask.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mask, err := imaging.DecodeMaskPNG(obj)
		obj.Close()
		if err != nil {
			t.Fatalf("mask %s: %v", ev.Mask.Key, err)
		}
		if mask.Width != ev.Image.Width || mask.Height != ev.Image.Height {
			t.Errorf("mask %dx%d, image %dx%d", mask.Width, mask.Height, ev.Image.Width, ev.Image.Height)
		}
		if !strings.HasPrefix(ev.Mask.Key, "masks/"+uploads) {
			t.Errorf("mask key %q is not under the output prefix", ev.Mask.Key)
		}
	}
	if len(seen) != n {
		t.Errorf("results for %d distinct sources, want %d", len(seen), n)
	}
	end, committed := s.endOffsets(t), s.committedOffsets(t)
	for p, off := range end {
		if committed[p] != off && off > 0 {
			t.Errorf("partition %d: committed %d, end %d", p, committed[p], off)
		}
	}
}

// TestPoisonMessagesAndCorruptImages: each bad input ends in the dead-letter topic with its class; the good
// images are still processed.
func TestPoisonMessagesAndCorruptImages(t *testing.T) {
	s := startStack(t)
	results := s.collect(t, resultTopic)
	dlq := s.collect(t, dlqTopic)
	s.startPipeline(t, pipeline.ModelSource{File: writeModel(t, exportTiny(t, "v1", 1))}, testLogger(t))

	s.produceRaw(t,
		[]byte(`{not json`),
		[]byte(`{"hello": "world"}`),
		[]byte(`{"bucket": "pets", "key": "uploads/does-not-exist.jpg"}`),
		[]byte(`{"bucket": "secret", "key": "uploads/x.jpg"}`),
		[]byte(`{"bucket": "pets", "key": "uploads/../etc/passwd"}`),
		[]byte(`{"bucket": "pets", "key": "masks/uploads/a.jpg.etag.v1.mask.png"}`), // own output: ignored
	)
	put := func(key string, data []byte) {
		if _, err := s.s3.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	put(uploads+"truncated.jpg", samplePhotos(t)[0][:2000])
	put(uploads+"empty.jpg", nil)
	put(uploads+"text.jpg", []byte("this is not an image"))
	s.upload(t, names("good", 4)...)

	wantClasses := map[string]events.ErrorClass{
		"{not json": events.ClassMalformedMessage, `{"hello": "world"}`: events.ClassMalformedMessage,
	}
	_ = wantClasses
	waitFor(t, 90*time.Second, "4 results and 8 dead letters", func() bool {
		return len(results.snapshot()) >= 4 && len(dlq.snapshot()) >= 8
	})
	time.Sleep(500 * time.Millisecond) // Nothing more should arrive (the own-output message is ignored).
	schema := schemaValidator(t, "deadletter-v1.json", events.DeadLetterSchema())
	classes := map[events.ErrorClass]int{}
	for i, ev := range decodeDeadLetters(t, dlq.snapshot()) {
		validateJSON(t, schema, dlq.snapshot()[i].Value)
		classes[ev.ErrorClass]++
		if ev.Reason == "" {
			t.Errorf("dead letter %d has no reason", i)
		}
	}
	want := map[events.ErrorClass]int{
		events.ClassMalformedMessage: 3, // bad JSON, unknown shape, "../" key
		events.ClassMissingObject:    1,
		events.ClassNotAllowed:       1,
		events.ClassBadImage:         3, // truncated, empty, text
	}
	for c, n := range want {
		if classes[c] != n {
			t.Errorf("dead letters of class %s: %d, want %d (all: %v)", c, classes[c], n, classes)
		}
	}
	if got := len(results.snapshot()); got != 4 {
		t.Errorf("%d results, want 4", got)
	}
}

// TestRestartMidStreamLosesNothing: a pipeline stopped mid-stream and a new one started finish every image;
// duplicates only overwrite the same mask.
func TestRestartMidStreamLosesNothing(t *testing.T) {
	s := startStack(t)
	results := s.collect(t, resultTopic)
	// The small model is slow enough on CPU that the stop lands mid-stream.
	modelFile := writeModel(t, exportPreset(t, model.PresetSmall, "v1", 1))
	// Tiny queues: little is in flight when the stop comes, most messages are not fetched yet.
	narrow := func(c *pipeline.Config) {
		c.QueueSize, c.FetchWorkers, c.DecodeWorkers, c.WriteWorkers, c.MaxBatch = 1, 1, 1, 1, 1
	}
	first := s.startPipeline(t, pipeline.ModelSource{File: modelFile}, testLogger(t), narrow)
	const n = 40
	s.upload(t, names("restart", n)...)
	waitFor(t, 60*time.Second, "some results", func() bool { return len(results.snapshot()) >= 2 })
	first.stop(t)
	mid := len(results.snapshot())
	if mid >= n {
		t.Fatalf("all %d images were done before the stop; the test did not stop mid-stream", n)
	}
	s.startPipeline(t, pipeline.ModelSource{File: modelFile}, testLogger(t))
	waitFor(t, 90*time.Second, "every source processed", func() bool {
		seen := map[string]bool{}
		for _, ev := range decodeResults(t, results.snapshot()) {
			seen[ev.Source.Key] = true
		}
		return len(seen) == n
	})
	t.Logf("results before restart: %d; total events: %d for %d sources", mid, len(results.snapshot()), n)
	masks := 0
	for obj := range s.s3.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: "masks/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		masks++
	}
	if masks != n {
		t.Errorf("%d mask objects, want %d (a redelivery must overwrite the same key)", masks, n)
	}
}

// TestTwoInstancesSplitPartitions: two pipelines in one consumer group share the work.
func TestTwoInstancesSplitPartitions(t *testing.T) {
	s := startStack(t)
	results := s.collect(t, resultTopic)
	modelFile := writeModel(t, exportTiny(t, "v1", 1))
	a := s.startPipeline(t, pipeline.ModelSource{File: modelFile}, testLogger(t))
	b := s.startPipeline(t, pipeline.ModelSource{File: modelFile}, testLogger(t))
	time.Sleep(8 * time.Second) // Let both join the group and the partitions be assigned.
	const n = 32
	s.upload(t, names("split", n)...)
	waitFor(t, 120*time.Second, "every source processed", func() bool {
		seen := map[string]bool{}
		for _, ev := range decodeResults(t, results.snapshot()) {
			seen[ev.Source.Key] = true
		}
		return len(seen) == n
	})
	pa, pb := processed(t, a), processed(t, b)
	if pa == 0 || pb == 0 {
		t.Errorf("work not shared: instance A processed %d, B %d", pa, pb)
	}
	t.Logf("instance A processed %d, B %d", pa, pb)
}

func processed(t *testing.T, in *instance) int {
	t.Helper()
	families, err := in.p.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "vitseg_images_processed_total" {
			return int(f.GetMetric()[0].GetCounter().GetValue())
		}
	}
	return 0
}

var _ = fmt.Sprint
var _ = json.Marshal

// TestDrainDeadlineStopsAFullPipeline: with every queue full and a drain deadline far shorter than the backlog,
// Run returns soon after the deadline, and what it did not finish is processed by the next instance.
func TestDrainDeadlineStopsAFullPipeline(t *testing.T) {
	s := startStack(t)
	results := s.collect(t, resultTopic)
	modelFile := writeModel(t, exportPreset(t, model.PresetSmall, "v1", 1))
	tight := func(c *pipeline.Config) {
		c.QueueSize, c.MaxBatch, c.DrainTimeout = 2, 1, 300*time.Millisecond
	}
	first := s.startPipeline(t, pipeline.ModelSource{File: modelFile}, testLogger(t), tight)
	const n = 48
	s.upload(t, names("drain", n)...)
	waitFor(t, 60*time.Second, "a first result", func() bool { return len(results.snapshot()) >= 1 })
	start := time.Now()
	first.stop(t)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stop took %s with a 300ms drain deadline", d)
	}
	s.startPipeline(t, pipeline.ModelSource{File: modelFile}, testLogger(t))
	waitFor(t, 120*time.Second, "every source processed", func() bool {
		seen := map[string]bool{}
		for _, ev := range decodeResults(t, results.snapshot()) {
			seen[ev.Source.Key] = true
		}
		return len(seen) == n
	})
}
