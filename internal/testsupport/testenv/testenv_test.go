package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"
)

func putObject(t *testing.T, c *minio.Client, bucket, key string, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func getObject(t *testing.T, c *minio.Client, bucket, key string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	obj, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return data
}

func produce(t *testing.T, brokers []string, topic string, values ...string) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: 10 * time.Millisecond}
	defer w.Close()
	var msgs []kafka.Message
	for _, v := range values {
		msgs = append(msgs, kafka.Message{Value: []byte(v)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// consume reads n records through consumer group group, committing each.
func consume(t *testing.T, brokers []string, topic, group string, n int) []string {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, Topic: topic, GroupID: group, StartOffset: kafka.FirstOffset,
		SessionTimeout: 6 * time.Second, RebalanceTimeout: 6 * time.Second, MaxWait: 100 * time.Millisecond,
	})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []string
	for range n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("consume %s after %d records: %v", topic, len(got), err)
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit: %v", err)
		}
		got = append(got, string(m.Value))
	}
	return got
}

func TestMinIOPutGet(t *testing.T) {
	m := StartMinIO(t)
	m.MakeBucket("pets")
	want := []byte("not really a cat")
	putObject(t, m.Client(t), "pets", "uploads/cat.jpg", want)
	if got := getObject(t, m.Client(t), "pets", "uploads/cat.jpg"); !bytes.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMinIOTLS(t *testing.T) {
	m := StartMinIO(t, WithTLS())
	if !m.TLS() || m.CAFile() == "" {
		t.Fatalf("TLS() = %v, CAFile() = %q", m.TLS(), m.CAFile())
	}
	c := m.Client(t)
	if c.EndpointURL().Scheme != "https" {
		t.Fatalf("client endpoint %s is not https", c.EndpointURL())
	}
	m.MakeBucket("secure")
	putObject(t, c, "secure", "k", []byte("v"))
	if got := getObject(t, c, "secure", "k"); string(got) != "v" {
		t.Errorf("got %q, want v", got)
	}
}

func TestMinIORestartKeepsObjects(t *testing.T) {
	m := StartMinIO(t)
	m.MakeBucket("models")
	putObject(t, m.Client(t), "models", "vitseg/current.json", []byte(`{"version":"v1"}`))
	endpoint := m.Endpoint()
	m.Restart()
	if m.Endpoint() != endpoint {
		t.Errorf("endpoint changed from %s to %s", endpoint, m.Endpoint())
	}
	if got := getObject(t, m.Client(t), "models", "vitseg/current.json"); string(got) != `{"version":"v1"}` {
		t.Errorf("after restart got %q", got)
	}
}

func TestKafkaProduceConsume(t *testing.T) {
	k := StartKafka(t, WithTopics(Topic{Name: "images", Partitions: 2}))
	produce(t, k.Brokers(), "images", "a", "b", "c")
	got := consume(t, k.Brokers(), "images", "g", 3)
	if strings.Join(slices.Sorted(slices.Values(got)), ",") != "a,b,c" {
		t.Errorf("consumed %v, want a, b, c", got)
	}

	k.CreateTopics(Topic{Name: "results", Partitions: 3}, Topic{Name: "images", Partitions: 2})
	conn, err := kafka.Dial("tcp", k.Brokers()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions("results")
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 {
		t.Errorf("results has %d partitions, want 3", len(parts))
	}
}

func TestKafkaRestartKeepsData(t *testing.T) {
	k := StartKafka(t, WithTopics(Topic{Name: "events", Partitions: 1}))
	produce(t, k.Brokers(), "events", "e0", "e1", "e2", "e3")
	if got := consume(t, k.Brokers(), "events", "g", 2); strings.Join(got, ",") != "e0,e1" {
		t.Fatalf("consumed %v, want e0, e1", got)
	}
	brokers := k.Brokers()

	k.Restart()
	if fmt.Sprint(k.Brokers()) != fmt.Sprint(brokers) {
		t.Errorf("brokers changed from %v to %v", brokers, k.Brokers())
	}
	// The group resumes after its committed offset, and the records are
	// still there.
	if got := consume(t, k.Brokers(), "events", "g", 2); strings.Join(got, ",") != "e2,e3" {
		t.Errorf("after restart the group consumed %v, want e2, e3", got)
	}
	if got := consume(t, k.Brokers(), "events", "fresh", 4); strings.Join(got, ",") != "e0,e1,e2,e3" {
		t.Errorf("after restart a new group consumed %v, want e0..e3", got)
	}
}

// minioEvent is the part of a MinIO bucket notification the test checks.
type minioEvent struct {
	EventName string
	Key       string
	Records   []struct {
		EventName string `json:"eventName"`
		S3        struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key  string `json:"key"`
				Size int64  `json:"size"`
			} `json:"object"`
		} `json:"s3"`
	}
}

func TestMinIONotificationReachesKafka(t *testing.T) {
	k := StartKafka(t, WithTopics(Topic{Name: "vitseg.images", Partitions: 1}))
	m := StartMinIO(t, WithKafkaNotify(k.Brokers(), "vitseg.images"))
	m.MakeBucket("pets")
	m.NotifyObjectCreated("pets", "uploads/")

	c := m.Client(t)
	putObject(t, c, "pets", "elsewhere/ignored.jpg", []byte("x"))
	key := "uploads/my cat+1 (ü).jpg"
	putObject(t, c, "pets", key, []byte("meow"))

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: k.Brokers(), Topic: "vitseg.images", Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg, err := r.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("no notification on vitseg.images: %v", err)
	}
	var ev minioEvent
	if err := json.Unmarshal(msg.Value, &ev); err != nil {
		t.Fatalf("decode event %s: %v", msg.Value, err)
	}
	if len(ev.Records) != 1 {
		t.Fatalf("event has %d records, want 1: %s", len(ev.Records), msg.Value)
	}
	rec := ev.Records[0]
	if !strings.HasPrefix(rec.EventName, "s3:ObjectCreated:") {
		t.Errorf("event name %q", rec.EventName)
	}
	if rec.S3.Bucket.Name != "pets" || rec.S3.Object.Size != 4 {
		t.Errorf("bucket %q size %d, want pets 4", rec.S3.Bucket.Name, rec.S3.Object.Size)
	}
	if rec.S3.Object.Key == key {
		t.Errorf("object key %q arrived unencoded; MinIO URL-encodes it", rec.S3.Object.Key)
	}
	decoded, err := url.QueryUnescape(rec.S3.Object.Key)
	if err != nil || decoded != key {
		t.Errorf("object key %q decodes to %q (%v), want %q", rec.S3.Object.Key, decoded, err, key)
	}

	// Only the object under the prefix was announced.
	last, err := (&kafka.Client{Addr: kafka.TCP(k.Brokers()...)}).ListOffsets(ctx, &kafka.ListOffsetsRequest{
		Topics: map[string][]kafka.OffsetRequest{"vitseg.images": {kafka.LastOffsetOf(0)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if end := last.Topics["vitseg.images"][0].LastOffset; end != 1 {
		t.Errorf("topic holds %d events, want 1 (the prefix filter should drop elsewhere/)", end)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, to test what a helper reports.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func fatalMessage(t *testing.T, f func(tb testing.TB)) string {
	t.Helper()
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg
}

func TestMissingBinaryTellsToRunSetup(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		run  func(tb testing.TB)
		want string
	}{
		{
			name: "minio from the cache",
			env:  map[string]string{"VITSEG_MINIO_BIN": "", "VITSEG_CACHE": t.TempDir()},
			run:  func(tb testing.TB) { StartMinIO(tb) },
			want: "run scripts/setup.sh minio",
		},
		{
			name: "devbroker from the cache",
			env:  map[string]string{"VITSEG_DEVBROKER_BIN": "", "VITSEG_CACHE": t.TempDir()},
			run:  func(tb testing.TB) { StartKafka(tb) },
			want: "run scripts/setup.sh devbroker",
		},
		{
			name: "minio from the environment",
			env:  map[string]string{"VITSEG_MINIO_BIN": filepath.Join(t.TempDir(), "nope")},
			run:  func(tb testing.TB) { StartMinIO(tb) },
			want: "VITSEG_MINIO_BIN=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			msg := fatalMessage(t, tt.run)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("fatal message %q does not contain %q", msg, tt.want)
			}
		})
	}
}
