package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/producer"
)

// TestResultsSummaryAndContactSheet: `vitseg results` waits for the expected events, summarises them and draws
// the contact sheet from the photo and mask in the bucket.
func TestResultsSummaryAndContactSheet(t *testing.T) {
	k := testenv.StartKafka(t, testenv.WithTopics(testenv.Topic{Name: "vitseg.results", Partitions: 2},
		testenv.Topic{Name: "vitseg.deadletter", Partitions: 1}))
	m := testenv.StartMinIO(t)
	m.MakeBucket("pets")
	ctx := context.Background()
	client := m.Client(t)
	photo, err := os.ReadFile(filepath.Join(datasetDir(t), "images", "Abyssinian_1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := imaging.Decode(bytes.NewReader(photo), imaging.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	mask := imaging.NewMask(dec.Width, dec.Height)
	var maskPNG bytes.Buffer
	if err := imaging.EncodeMaskPNG(&maskPNG, mask); err != nil {
		t.Fatal(err)
	}
	for key, data := range map[string][]byte{"uploads/run1/cat.jpg": photo, "masks/uploads/run1/cat.jpg.e.v.mask.png": maskPNG.Bytes()} {
		if _, err := client.PutObject(ctx, "pets", key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	w, err := producer.NewWriter(producer.WriterConfig{Brokers: k.Brokers(), ResultTopic: "vitseg.results",
		DeadLetterTopic: "vitseg.deadletter"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev := events.ResultEvent{Source: events.Source{Bucket: "pets", Key: "uploads/run1/cat.jpg", ETag: "e", Size: int64(len(photo))},
		Mask:           events.MaskRef{Bucket: "pets", Key: "masks/uploads/run1/cat.jpg.e.v.mask.png"},
		Model:          events.ModelRef{Name: "vitseg", Version: "v"},
		Image:          events.ImageSize{Width: dec.Width, Height: dec.Height},
		ClassFractions: events.ClassFractions{Pet: 1},
		PetBBox:        &events.BBox{X0: 0, Y0: 0, X1: dec.Width, Y1: dec.Height},
		TimingsMS:      events.Timings{Total: 12}, ProcessedAt: time.Now()}
	if err := w.PublishResults(ctx, ev); err != nil {
		t.Fatal(err)
	}
	other := ev
	other.Source.Key = "elsewhere/dog.jpg" // outside the prefix: not counted
	if err := w.PublishResults(ctx, other); err != nil {
		t.Fatal(err)
	}
	dl := events.NewDeadLetter(kafka.Message{Topic: "vitseg.images", Value: []byte("{bad")}, events.ClassMalformedMessage,
		"not a JSON object", &events.ObjectVersion{Bucket: "pets", Key: "uploads/run1/bad.jpg"}, time.Now())
	if err := w.PublishDeadLetters(ctx, dl); err != nil {
		t.Fatal(err)
	}

	sheet := filepath.Join(t.TempDir(), "sheet.png")
	out, stderr, err := runCLI(t, "results", "--kafka-brokers", strings.Join(k.Brokers(), ","), "--source-prefix", "uploads/run1/",
		"--expect", "2", "--timeout", "60s", "--contact-sheet", sheet,
		"--s3-endpoint", m.Endpoint(), "--s3-access-key", m.AccessKey(), "--s3-secret-key", m.SecretKey())
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"results: 1 images segmented, 1 dead-lettered", "mean pet area: 100.0%", "dead letters malformed_message: 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	f, err := os.Open(sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 6*160 || b.Dy() != 160 {
		t.Errorf("contact sheet is %v, want one row of 6 cells of 160 px", b)
	}
}
