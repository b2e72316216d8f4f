package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/pipeline"
	"github.com/vitseg/vitseg/producer"
)

// The mask of an image is stored under a key derived from the source key, its ETag and the model version, so
// that a replay of the same object version with the same model overwrites the same mask.
func ExampleMaskKey() {
	m := events.MaskKey("masks/", "uploads/2026/cat.jpg", "08a83d66", "000003")
	fmt.Println(m.Key)
	fmt.Println(m.Form)
	// Output:
	// masks/uploads/2026/cat.jpg.08a83d66.000003.mask.png
	// derived
}

// New checks its dependencies before anything starts: a Kafka Reader and Writer (*consumer.Reader,
// *producer.Writer), an ObjectStore (NewS3Store), the ONNX Runtime and a model source; the configuration
// needs the allow list of the sources to segment.
// Run then processes messages until its context ends (see ExamplePipeline_Run for the full wiring).
func ExampleNew() {
	_, err := pipeline.New(pipeline.DefaultConfig(), pipeline.Deps{})
	fmt.Println(err)
	// Output:
	// pipeline: missing dependencies: Reader, Writer, Store, Runtime
}

// A pipeline wired as vitseg serve wires it: references come from the input topic (here MinIO's bucket
// notifications of new uploads), masks go to S3 next to the photos, result events to the result topic. Run
// processes messages until its context ends, then drains what it has started and commits it.
func ExamplePipeline_Run() {
	s3, err := minio.New(s3Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3AccessKey, s3SecretKey, "")})
	if err != nil {
		log.Fatal(err)
	}
	reader, err := consumer.NewReader(consumer.ReaderConfig{Brokers: brokers, GroupID: "vitseg", Topic: "vitseg.images"})
	if err != nil {
		log.Fatal(err)
	}
	defer reader.Close()
	writer, err := producer.NewWriter(producer.WriterConfig{Brokers: brokers,
		ResultTopic: "vitseg.results", DeadLetterTopic: "vitseg.deadletter"})
	if err != nil {
		log.Fatal(err)
	}
	defer writer.Close()
	allow, err := consumer.ParseAllowList("pets/uploads/")
	if err != nil {
		log.Fatal(err)
	}
	lib, err := inference.ResolveLibrary("")
	if err != nil {
		log.Fatal(err)
	}
	rt, err := inference.Open(lib)
	if err != nil {
		log.Fatal(err)
	}
	cfg := pipeline.DefaultConfig()
	cfg.Allow = allow // masks go to pets/masks/ (cfg.OutputPrefix), which is never segmented again
	p, err := pipeline.New(cfg, pipeline.Deps{
		Reader:  reader,
		Writer:  writer,
		Store:   pipeline.NewS3Store(s3),
		Runtime: rt,
		Session: inference.Options{Device: inference.DeviceCPU},
		Models:  pipeline.ModelSource{File: modelFile},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	// Upload a photo: its bucket notification is the pipeline's input.
	photo, err := os.ReadFile(photoFile)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s3.PutObject(ctx, "pets", "uploads/cat.jpg", bytes.NewReader(photo), int64(len(photo)),
		minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
		log.Fatal(err)
	}

	// Wait for its result event.
	results := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "vitseg.results", MaxWait: time.Second})
	defer results.Close()
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	msg, err := results.ReadMessage(waitCtx)
	if err != nil {
		log.Fatal(err)
	}
	var ev events.ResultEvent
	if err := json.Unmarshal(msg.Value, &ev); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s/%s (%dx%d) segmented by model %s\n", ev.Source.Bucket, ev.Source.Key, ev.Image.Width, ev.Image.Height, ev.Model.Version)
	fmt.Printf("mask %s/%s (%s)\n", ev.Mask.Bucket, ev.Mask.Key, ev.Mask.KeyForm)
	info, err := s3.StatObject(waitCtx, ev.Mask.Bucket, ev.Mask.Key, minio.StatObjectOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored as", info.ContentType)

	stop() // a graceful shutdown: finish, publish and commit what was fetched
	fmt.Println("stopped:", <-done)
	// Output:
	// pets/uploads/cat.jpg (600x400) segmented by model 000001
	// mask pets/masks/uploads/cat.jpg.09304574e6bcd353beeb3514dfbe0e94.000001.mask.png (derived)
	// stored as image/png
	// stopped: <nil>
}
