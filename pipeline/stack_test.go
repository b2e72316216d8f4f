package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/kafkaconn"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/pipeline"
	"github.com/vitseg/vitseg/producer"
)

const (
	inputTopic  = "vitseg.images"
	resultTopic = "vitseg.results"
	dlqTopic    = "vitseg.deadletter"
	bucket      = "pets"
	uploads     = "uploads/"
)

// stack is a real dev broker and MinIO server with bucket notifications into the input topic.
type stack struct {
	kafka   *testenv.Kafka
	minio   *testenv.MinIO
	s3      *minio.Client
	runtime *inference.Runtime
	tracing trace.TracerProvider // Deps.Tracing of the pipelines started
	group   string               // consumer group of the pipelines started ("vitseg" when empty)
}

func startStack(t *testing.T) *stack {
	t.Helper()
	k := testenv.StartKafka(t, testenv.WithTopics(
		testenv.Topic{Name: inputTopic, Partitions: 4},
		testenv.Topic{Name: resultTopic, Partitions: 4},
		testenv.Topic{Name: dlqTopic, Partitions: 1}))
	m := testenv.StartMinIO(t, testenv.WithKafkaNotify(k.Brokers(), inputTopic))
	m.MakeBucket(bucket)
	m.NotifyObjectCreated(bucket, uploads)
	return &stack{kafka: k, minio: m, s3: m.Client(t), runtime: openRuntime(t)}
}

func openRuntime(t *testing.T) *inference.Runtime { return modeltest.Runtime(t) }

// exportTiny returns a randomly initialised tiny model with the given version.
func exportTiny(t *testing.T, version string, seed int64) []byte {
	return modeltest.Export(t, model.PresetTiny, version, seed)
}

// exportPreset returns a randomly initialised model of a preset with the given version.
func exportPreset(t *testing.T, preset, version string, seed int64) []byte {
	return modeltest.Export(t, preset, version, seed)
}

func writeModel(t *testing.T, b []byte) string { return modeltest.WriteFile(t, b) }

// instance is one running pipeline.
type instance struct {
	p      *pipeline.Pipeline
	cancel context.CancelFunc
	done   chan error
	reader *consumer.Reader
	writer *producer.Writer
}

func (s *stack) startPipeline(t *testing.T, models pipeline.ModelSource, log *zap.Logger, tune ...func(*pipeline.Config)) *instance {
	t.Helper()
	allow, err := consumer.ParseAllowList(bucket + "/" + uploads)
	if err != nil {
		t.Fatal(err)
	}
	group := s.group
	if group == "" {
		group = "vitseg"
	}
	reader, err := consumer.NewReader(consumer.ReaderConfig{Brokers: s.kafka.Brokers(), GroupID: group,
		Topic: inputTopic, SessionTimeout: 6 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	writer, err := producer.NewWriter(producer.WriterConfig{Brokers: s.kafka.Brokers(), ResultTopic: resultTopic,
		DeadLetterTopic: dlqTopic, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := pipeline.DefaultConfig()
	cfg.Allow = allow
	cfg.MaxBatch, cfg.MaxWait, cfg.RetryMax, cfg.DrainTimeout = 4, 20*time.Millisecond, time.Second, 20*time.Second
	for _, f := range tune {
		f(&cfg)
	}
	p, err := pipeline.New(cfg, pipeline.Deps{Reader: reader, Writer: writer, Store: pipeline.NewS3Store(s.pipelineS3(t)),
		Runtime: s.runtime, Session: inference.Options{Device: inference.DeviceCPU, IntraOpThreads: 1},
		Models: models, Logger: log, Tracing: s.tracing})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{p: p, cancel: cancel, done: make(chan error, 1), reader: reader, writer: writer}
	go func() { in.done <- p.Run(ctx) }()
	t.Cleanup(func() { in.stop(t) })
	return in
}

// pipelineS3 is an S3 client like serve's: one attempt per request, the pipeline owns the retries.
func (s *stack) pipelineS3(t *testing.T) *minio.Client {
	t.Helper()
	c, err := objstore.New(objstore.Config{Endpoint: s.minio.Endpoint(), AccessKey: s.minio.AccessKey(),
		SecretKey: s.minio.SecretKey(), MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stop shuts the pipeline down gracefully and waits for it.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("pipeline returned %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("pipeline did not stop within 60s")
	}
	in.reader.Close() //nolint:errcheck
	in.writer.Close() //nolint:errcheck
}

// upload puts the sample photos (cycling through a few real ones) as uploads/NAME.
func (s *stack) upload(t *testing.T, names ...string) {
	t.Helper()
	photos := samplePhotos(t)
	for i, n := range names {
		data := photos[i%len(photos)]
		if _, err := s.s3.PutObject(context.Background(), bucket, uploads+n, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
			t.Fatal(err)
		}
	}
}

func samplePhotos(t *testing.T) [][]byte {
	t.Helper()
	dir := modeltest.DatasetDir(t)
	var out [][]byte
	for _, n := range []string{"Abyssinian_1.jpg", "Bengal_10.jpg", "american_bulldog_10.jpg", "Abyssinian_34.jpg"} {
		b, err := os.ReadFile(filepath.Join(dir, "images", n))
		if err != nil {
			t.Fatalf("sample photo: %v", err)
		}
		out = append(out, b)
	}
	return out
}

// produceRaw writes raw messages to the input topic.
func (s *stack) produceRaw(t *testing.T, values ...[]byte) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(s.kafka.Brokers()...), Topic: inputTopic, BatchTimeout: 5 * time.Millisecond,
		RequiredAcks: kafka.RequireAll}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Value: v}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// collector reads a topic from the beginning, in the background.
type collector struct {
	mu   sync.Mutex
	msgs []kafka.Message
	stop context.CancelFunc
}

func (s *stack) collect(t *testing.T, topic string) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{stop: cancel}
	err := kafkaconn.Cluster{Brokers: s.kafka.Brokers()}.Follow(ctx, topic, func(m kafka.Message) {
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		c.mu.Unlock()
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return c
}

func (c *collector) snapshot() []kafka.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]kafka.Message(nil), c.msgs...)
}

// waitFor polls until cond holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func decodeResults(t *testing.T, msgs []kafka.Message) []events.ResultEvent {
	t.Helper()
	out := make([]events.ResultEvent, len(msgs))
	for i, m := range msgs {
		if err := json.Unmarshal(m.Value, &out[i]); err != nil {
			t.Fatalf("result event %d: %v", i, err)
		}
	}
	return out
}

func decodeDeadLetters(t *testing.T, msgs []kafka.Message) []events.DeadLetterEvent {
	t.Helper()
	out := make([]events.DeadLetterEvent, len(msgs))
	for i, m := range msgs {
		if err := json.Unmarshal(m.Value, &out[i]); err != nil {
			t.Fatalf("dead-letter event %d: %v", i, err)
		}
	}
	return out
}

// schemaValidator compiles a published JSON Schema.
func schemaValidator(t *testing.T, name string, schema []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validateJSON(t *testing.T, s *jsonschema.Schema, raw []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("event does not match its schema: %v\n%s", err, raw)
	}
}

// committedOffsets returns the group's committed offsets on the input topic.
func (s *stack) committedOffsets(t *testing.T) map[int]int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(s.kafka.Brokers()...), Timeout: 10 * time.Second}
	group := s.group
	if group == "" {
		group = "vitseg"
	}
	resp, err := client.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: group,
		Topics: map[string][]int{inputTopic: {0, 1, 2, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[inputTopic] {
		out[p.Partition] = p.CommittedOffset
	}
	return out
}

// endOffsets returns the input topic's end offsets.
func (s *stack) endOffsets(t *testing.T) map[int]int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(s.kafka.Brokers()...), Timeout: 10 * time.Second}
	var reqs []kafka.OffsetRequest
	for p := range 4 {
		reqs = append(reqs, kafka.LastOffsetOf(p))
	}
	resp, err := client.ListOffsets(context.Background(), &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{inputTopic: reqs}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[inputTopic] {
		out[p.Partition] = p.LastOffset
	}
	return out
}

// committedToEnd reports whether the group has committed every partition of the input topic to its end.
func (s *stack) committedToEnd(t *testing.T) bool {
	t.Helper()
	committed := s.committedOffsets(t)
	for p, end := range s.endOffsets(t) {
		if end > 0 && committed[p] != end {
			return false
		}
	}
	return true
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d.jpg", prefix, i)
	}
	return out
}

func testLogger(t *testing.T) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
}
