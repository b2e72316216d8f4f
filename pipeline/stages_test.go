package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/producer"
)

// Unit tests of single stages over the stage interfaces: memStore is a real in-memory ObjectStore (S3's
// not-found answer included), recordingWriter records the events it is given. The full-stack tests
// (stack_test.go) run the same stages against MinIO and the broker.

type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte // "bucket/key" -> data
	meta    map[string]map[string]string
}

func newMemStore() *memStore {
	return &memStore{objects: map[string][]byte{}, meta: map[string]map[string]string{}}
}

func (s *memStore) Get(_ context.Context, bucket, key string, maxBytes int64) (Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[bucket+"/"+key]
	if !ok {
		return Object{}, minio.ErrorResponse{Code: "NoSuchKey", StatusCode: http.StatusNotFound, Key: key}
	}
	o := Object{ETag: "etag-" + key, Size: int64(len(b))}
	if o.Size <= maxBytes {
		o.Data = append([]byte(nil), b...)
	}
	return o, nil
}

func (s *memStore) Put(_ context.Context, bucket, key string, data []byte, _ string, meta map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[bucket+"/"+key] = append([]byte(nil), data...)
	s.meta[bucket+"/"+key] = meta
	return nil
}

func (s *memStore) Probe(context.Context) error { return nil }

type recordingWriter struct {
	mu          sync.Mutex
	results     []events.ResultEvent
	deadLetters []events.DeadLetterEvent
	failNext    error // returned once by the next PublishDeadLetters
}

func (w *recordingWriter) PublishResults(_ context.Context, evs ...events.ResultEvent) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.results = append(w.results, evs...)
	return nil
}

func (w *recordingWriter) PublishDeadLetters(_ context.Context, evs ...events.DeadLetterEvent) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.failNext; err != nil {
		w.failNext = nil
		return err
	}
	w.deadLetters = append(w.deadLetters, evs...)
	return nil
}

// stagePipeline returns a pipeline with only what single stages use, and a job for bucket/key on a tracked
// message.
func stagePipeline(t *testing.T, store ObjectStore, w Writer, tune func(*Config)) (*Pipeline, *job) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.RetryMin, cfg.RetryMax = time.Millisecond, time.Millisecond
	if tune != nil {
		tune(&cfg)
	}
	p := &Pipeline{cfg: cfg.withDefaults(), deps: Deps{Store: store, Writer: w}, log: zap.NewNop(),
		metrics: newMetrics(), wm: consumer.NewWatermark(), probeNow: make(chan struct{}, 1), tracer: newTracer(nil)}
	p.retry = p.newRetryPolicies()
	p.s3OK.Store(true)
	p.kafkaOK.Store(true)
	m := &message{msg: kafka.Message{Topic: "in", Partition: 0, Offset: 7, Value: []byte(`{}`)}}
	p.wm.Track(0, 7)
	m.pending.Store(1)
	return p, p.newJob(m, consumer.ImageRef{Bucket: "b", Key: "uploads/cat.jpg"}, time.Now())
}

func TestFetchStage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		object    []byte // nil: no such object
		maxBytes  int64
		wantOK    bool
		wantClass events.ErrorClass // of the dead letter, when not OK
	}{
		{"within the limit", []byte("0123456789"), 10, true, ""},
		{"over the limit", []byte("0123456789a"), 10, false, events.ClassTooLarge},
		{"missing", nil, 10, false, events.ClassMissingObject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, w := newMemStore(), &recordingWriter{}
			if tc.object != nil {
				store.objects["b/uploads/cat.jpg"] = tc.object
			}
			p, j := stagePipeline(t, store, w, func(c *Config) { c.Limits.MaxBytes = tc.maxBytes })
			ok := p.fetch(context.Background(), j)
			if ok != tc.wantOK {
				t.Fatalf("fetch = %v, want %v (dead letters: %+v)", ok, tc.wantOK, w.deadLetters)
			}
			if ok {
				if string(j.data) != string(tc.object) || j.etag != "etag-uploads/cat.jpg" || j.size != int64(len(tc.object)) {
					t.Fatalf("fetched %q etag %q size %d", j.data, j.etag, j.size)
				}
				if len(w.deadLetters) != 0 {
					t.Fatalf("dead letters %+v for a good object", w.deadLetters)
				}
				return
			}
			if len(w.deadLetters) != 1 || w.deadLetters[0].ErrorClass != tc.wantClass {
				t.Fatalf("dead letters %+v, want one of class %s", w.deadLetters, tc.wantClass)
			}
			if p.wm.InFlight() != 0 {
				t.Fatalf("the dead-lettered message is still in flight")
			}
		})
	}
}

func TestWriteStage(t *testing.T) {
	store, w := newMemStore(), &recordingWriter{}
	p, j := stagePipeline(t, store, w, func(c *Config) { c.OutputPrefix = "masks/" })
	base := imaging.NewMask(2, 2)
	base.Pix = []uint8{0, 0, 1, 2}
	j.etag, j.size, j.model = "e1", 1234, &servingModel{name: "vitseg", version: "000003"}
	j.prepared = &inference.Prepared{Width: 4, Height: 4}
	j.fetched = j.received.Add(time.Millisecond)
	j.decoded, j.batched, j.inferred = j.fetched.Add(time.Millisecond), j.fetched.Add(2*time.Millisecond), j.fetched.Add(3*time.Millisecond)
	u := imaging.UpsampledMask{Base: base, Width: 4, Height: 4}
	j.result = inference.Segmentation{Mask: u, Stats: u.Stats(3)}
	if !p.write(context.Background(), j) {
		t.Fatalf("write failed: dead letters %+v", w.deadLetters)
	}
	key := events.MaskKey("masks/", "uploads/cat.jpg", "e1", "000003").Key
	png, ok := store.objects["b/"+key]
	if !ok {
		t.Fatalf("no mask at b/%s; store has %d objects", key, len(store.objects))
	}
	got, err := imaging.DecodeMaskPNG(bytes.NewReader(png))
	if err != nil || got.Width != 4 || got.Height != 4 {
		t.Fatalf("mask PNG: %v, %+v", err, got)
	}
	if m := store.meta["b/"+key]; m["vitseg-model-version"] != "000003" || m["vitseg-source"] != "b/uploads/cat.jpg" {
		t.Fatalf("mask metadata %v", m)
	}
	if len(w.results) != 1 {
		t.Fatalf("%d result events, want 1", len(w.results))
	}
	ev := w.results[0]
	if ev.Mask.Key != key || ev.Model.Version != "000003" || ev.Source.ETag != "e1" ||
		ev.EventID != events.ResultEventID(ev.Source, ev.Model) || ev.SchemaVersion != events.SchemaVersion {
		t.Fatalf("result event %+v", ev)
	}
	if ev.ClassFractions.Pet+ev.ClassFractions.Background+ev.ClassFractions.Border < 0.999 {
		t.Fatalf("class fractions %+v do not sum to 1", ev.ClassFractions)
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("result event: %v", err)
	}
	if p.wm.InFlight() != 0 {
		t.Fatalf("the written message is still in flight")
	}
}

// TestDeadLetterTooLarge: a dead letter over the topic's size limit is written again without the copy of
// the original message, and the message is finished.
func TestDeadLetterTooLarge(t *testing.T) {
	w := &recordingWriter{failNext: kafka.MessageSizeTooLarge}
	p, j := stagePipeline(t, newMemStore(), w, nil)
	p.failJob(context.Background(), j, events.ClassBadImage, errors.New("not an image"))
	if len(w.deadLetters) != 1 {
		t.Fatalf("%d dead letters, want 1", len(w.deadLetters))
	}
	if d := w.deadLetters[0]; !d.Original.Value.Truncated || d.ErrorClass != events.ClassBadImage {
		t.Fatalf("dead letter %+v: want the original payload dropped, class bad_image", d)
	}
	if p.wm.InFlight() != 0 {
		t.Fatalf("the dead-lettered message is still in flight")
	}
}

// validatingWriter checks events as producer.Writer does, refusing invalid ones with ErrInvalidEvent.
type validatingWriter struct{ recordingWriter }

func (w *validatingWriter) PublishResults(ctx context.Context, evs ...events.ResultEvent) error {
	for _, ev := range evs {
		if err := ev.Validate(); err != nil {
			return err
		}
	}
	return w.recordingWriter.PublishResults(ctx, evs...)
}

// TestWriteStageInvalidResultIsDeadLettered: a result event the writer refuses as invalid cannot become
// valid by retrying: the reference is dead-lettered as internal at once, not retried for ever (while no other
// result succeeds, the retry budget never charges, so the write worker and its partition would stall).
func TestWriteStageInvalidResultIsDeadLettered(t *testing.T) {
	w := &validatingWriter{}
	p, j := stagePipeline(t, newMemStore(), w, nil)
	base := imaging.NewMask(2, 2)
	j.etag, j.model = "e1", &servingModel{name: "", version: "000003"} // no model name: the event is invalid
	j.prepared = &inference.Prepared{Width: 2, Height: 2}
	u := imaging.UpsampledMask{Base: base, Width: 2, Height: 2}
	j.result = inference.Segmentation{Mask: u, Stats: u.Stats(3)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if p.write(ctx, j) {
		t.Fatal("write of an invalid result event succeeded")
	}
	if ctx.Err() != nil {
		t.Fatal("write retried an invalid result event until the context ended")
	}
	if len(w.deadLetters) != 1 || w.deadLetters[0].ErrorClass != events.ClassInternal {
		t.Fatalf("dead letters %+v, want one of class internal", w.deadLetters)
	}
	if p.wm.InFlight() != 0 {
		t.Fatalf("the dead-lettered message is still in flight")
	}
}

// closedReader is a Reader that has been closed.
type closedReader struct{ fetches int }

func (r *closedReader) Fetch(context.Context) (kafka.Message, error) {
	r.fetches++
	return kafka.Message{}, consumer.ErrClosed
}
func (*closedReader) Commit(context.Context, *consumer.Watermark) error {
	return consumer.ErrClosed
}
func (*closedReader) Lag() int64 { return 0 }

// TestConsumeStopsWhenTheReaderIsClosed: a closed reader can never deliver again; intake returns its error
// at once instead of retrying it every RetryMin until shutdown.
func TestConsumeStopsWhenTheReaderIsClosed(t *testing.T) {
	p, _ := stagePipeline(t, newMemStore(), &recordingWriter{}, nil)
	r := &closedReader{}
	p.deps.Reader = r
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.consume(ctx, ctx, intakeQueues{images: make(chan *job, 1)})
	if !errors.Is(err, consumer.ErrClosed) || ctx.Err() != nil || r.fetches != 1 {
		t.Fatalf("consume = %v after %d fetches (context: %v), want consumer.ErrClosed after one", err, r.fetches, ctx.Err())
	}
}

// TestDeadLetterGivesUpWhenWaitingCannotHelp: an invalid dead-letter event or a closed writer ends the
// dead-letter write at once (the message stays uncommitted) instead of retrying it until shutdown.
func TestDeadLetterGivesUpWhenWaitingCannotHelp(t *testing.T) {
	for _, cause := range []error{fmt.Errorf("%w: test", events.ErrInvalidEvent), producer.ErrClosed} {
		w := &recordingWriter{failNext: cause}
		p, j := stagePipeline(t, newMemStore(), w, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if p.deadLetter(ctx, j.msg, events.ClassBadImage, "test", &j.ref) {
			t.Errorf("%v: deadLetter reported a durable write", cause)
		}
		if ctx.Err() != nil {
			t.Errorf("%v: deadLetter retried until its context ended", cause)
		}
		cancel()
		if len(w.deadLetters) != 0 {
			t.Errorf("%v: %d dead letters written", cause, len(w.deadLetters))
		}
	}
}
