package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/pipeline"
)

// idPrefix is where TestEventIdentityProperty's objects live: allowed, and outside the notified uploads/ prefix
// (the test writes every reference itself).
const idPrefix = "idprop/"

// idRecord is one record of a generated notification.
type idRecord struct {
	bucket, key, etag string
	kind              string // "good" (the object exists), "missing" or "refused" (off the allow-list)
}

func (r idRecord) version() events.ObjectVersion {
	return events.ObjectVersion{Bucket: r.bucket, Key: r.key, ETag: r.etag}
}

// idMessage is one generated input message and what must come of it.
type idMessage struct {
	key       string // Kafka key: finds the message's dead letters through their copy of it
	records   []idRecord
	old       bool // produced two hours ago: past --max-age, every allowed record expires
	attempts  int  // vitseg-attempt header (0: none)
	malformed bool // not a reference at all: one message-level dead letter
}

// outcome is what must come of a record of m: a result, or a dead letter of a class.
func (m idMessage) outcome(r idRecord) (events.ErrorClass, bool) {
	switch {
	case r.kind == "refused":
		return events.ClassNotAllowed, false
	case m.attempts > 3:
		return events.ClassAttemptsExhausted, false
	case m.old:
		return events.ClassExpired, false
	case r.kind == "missing":
		return events.ClassMissingObject, false
	}
	return "", true
}

// TestEventIdentityProperty: generated multi-record notifications (1 to 5 records, mixes of good, missing,
// refused and duplicate references, expired and over-attempted messages, and malformed ones) run through the
// pipeline, then again through a second consumer group (a redelivery of every message). Every distinct event —
// a result per object version, a dead letter per message and object version, one per malformed message — has its
// own id, each id is the one producer derives from those coordinates, the CloudEvents ce_id header equals the
// body's event_id, and the redelivery reproduces exactly the same ids. VITSEG_IDPROP_SEED replays a seed.
func TestEventIdentityProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("VITSEG_IDPROP_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (VITSEG_IDPROP_SEED=%d replays it)", seed, seed)
	s := startStack(t)
	msgs := generateIDMessages(t, s, rand.New(rand.NewPCG(seed, 7)), 24)
	s.produceIDMessages(t, msgs)
	want := expectedEvents(msgs)

	modelFile := writeModel(t, exportTiny(t, "v1", 1))
	tune := func(c *pipeline.Config) {
		allow, err := consumer.ParseAllowList(bucket + "/" + uploads + "," + bucket + "/" + idPrefix)
		if err != nil {
			t.Fatal(err)
		}
		c.Allow, c.MaxAge = allow, time.Hour
	}
	results, dlq := s.collect(t, resultTopic), s.collect(t, dlqTopic)
	var runs [2]map[string]string // event id -> what it is about
	for run := range runs {
		// Each run's events are told apart by their produce time.
		since := time.Now()
		time.Sleep(10 * time.Millisecond)
		s.group = fmt.Sprintf("idprop-%d", run)
		in := s.startPipeline(t, pipeline.ModelSource{File: modelFile}, testLogger(t), tune)
		// Committed to the end: every event of the run is durably written (the collectors may lag behind).
		waitFor(t, 90*time.Second, "the input committed to the end", func() bool { return s.committedToEnd(t) })
		in.stop(t)
		settle(func() int { return len(results.snapshot()) + len(dlq.snapshot()) })
		runs[run] = checkEventIDs(t, msgs, producedAfter(results.snapshot(), since), producedAfter(dlq.snapshot(), since), want)
	}
	for id, about := range runs[0] {
		if runs[1][id] != about {
			t.Errorf("event %s (%s) was not reproduced by the redelivery (got %q)", id, about, runs[1][id])
		}
	}
	if len(runs[1]) != len(runs[0]) {
		t.Errorf("the redelivery produced %d distinct ids, the first run %d", len(runs[1]), len(runs[0]))
	}
}

// generateIDMessages generates n messages against the stack (uploading the good objects).
func generateIDMessages(t *testing.T, s *stack, r *rand.Rand, n int) []idMessage {
	t.Helper()
	photos := samplePhotos(t)
	var out []idMessage
	objects := 0
	newRecord := func() idRecord {
		objects++
		switch r.IntN(3) {
		case 0:
			key := fmt.Sprintf("%sgood-%d.jpg", idPrefix, objects)
			data := photos[objects%len(photos)]
			info, err := s.s3.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)),
				minio.PutObjectOptions{ContentType: "image/jpeg"})
			if err != nil {
				t.Fatal(err)
			}
			return idRecord{bucket: bucket, key: key, etag: strings.Trim(info.ETag, `"`), kind: "good"}
		case 1:
			return idRecord{bucket: bucket, key: fmt.Sprintf("%smissing-%d.jpg", idPrefix, objects),
				etag: fmt.Sprintf("%032x", r.Uint64()), kind: "missing"}
		}
		return idRecord{bucket: bucket, key: fmt.Sprintf("elsewhere/refused-%d.jpg", objects),
			etag: fmt.Sprintf("%032x", r.Uint64()), kind: "refused"}
	}
	for i := range n {
		m := idMessage{key: fmt.Sprintf("m%03d", i)}
		switch r.IntN(8) {
		case 0:
			m.malformed = true
		case 1:
			m.old = true
		case 2:
			m.attempts = 9
		}
		for range 1 + r.IntN(5) {
			rec := newRecord()
			if len(m.records) > 0 && r.IntN(4) == 0 {
				rec = m.records[r.IntN(len(m.records))] // the same object version twice in one message
			}
			m.records = append(m.records, rec)
		}
		out = append(out, m)
	}
	return out
}

// produceIDMessages writes each message as a MinIO bucket notification with its records.
func (s *stack) produceIDMessages(t *testing.T, msgs []idMessage) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(s.kafka.Brokers()...), Topic: inputTopic, BatchTimeout: 5 * time.Millisecond,
		RequiredAcks: kafka.RequireAll, Balancer: &kafka.Hash{}}
	defer w.Close()
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		out[i] = kafka.Message{Key: []byte(m.key), Value: notificationOf(t, m), Time: time.Now()}
		if m.old {
			out[i].Time = time.Now().Add(-2 * time.Hour)
		}
		if m.attempts > 0 {
			out[i].Headers = []kafka.Header{{Key: events.HeaderAttempt, Value: []byte(strconv.Itoa(m.attempts))}}
		}
	}
	if err := w.WriteMessages(context.Background(), out...); err != nil {
		t.Fatal(err)
	}
}

// notificationOf is m's value: a MinIO bucket notification (URL-encoded keys, as MinIO sends them).
func notificationOf(t *testing.T, m idMessage) []byte {
	if m.malformed {
		return []byte(`{"Records": [{"eventName": "s3:ObjectCreated:Put", "s3": 17}]}`)
	}
	type object struct {
		Key  string `json:"key"`
		ETag string `json:"eTag"`
		Size int64  `json:"size"`
	}
	type record struct {
		EventName string `json:"eventName"`
		S3        struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object object `json:"object"`
		} `json:"s3"`
	}
	n := struct {
		EventName string   `json:"EventName"`
		Key       string   `json:"Key"`
		Records   []record `json:"Records"`
	}{EventName: "s3:ObjectCreated:Put", Key: bucket + "/" + m.key}
	for _, r := range m.records {
		var rec record
		rec.EventName = "s3:ObjectCreated:Put"
		rec.S3.Bucket.Name = r.bucket
		rec.S3.Object = object{Key: url.QueryEscape(r.key), ETag: r.etag, Size: 1}
		n.Records = append(n.Records, rec)
	}
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expected is the set of distinct events the messages must produce.
type expected struct {
	results     map[string]bool // bucket/key/etag of each object version with a result
	deadLetters int             // distinct (message, object version) dead letters, plus one per malformed message
}

func expectedEvents(msgs []idMessage) expected {
	e := expected{results: map[string]bool{}}
	for _, m := range msgs {
		if m.malformed {
			e.deadLetters++
			continue
		}
		failed := map[events.ObjectVersion]bool{}
		for _, r := range m.records {
			if _, ok := m.outcome(r); ok {
				e.results[r.bucket+"/"+r.key+"/"+r.etag] = true
			} else {
				failed[r.version()] = true
			}
		}
		e.deadLetters += len(failed)
	}
	return e
}

// settle waits until count stops changing for a second (at most 15 s): the collectors have read what was written.
func settle(count func() int) {
	last, stable := -1, time.Now()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if n := count(); n != last {
			last, stable = n, time.Now()
		} else if time.Since(stable) >= time.Second {
			return
		}
	}
}

// producedAfter keeps the messages produced after t.
func producedAfter(msgs []kafka.Message, t time.Time) []kafka.Message {
	var out []kafka.Message
	for _, m := range msgs {
		if m.Time.After(t) {
			out = append(out, m)
		}
	}
	return out
}

// checkEventIDs checks one run's events against the messages and returns what each id is about.
func checkEventIDs(t *testing.T, msgs []idMessage, results, deadLetters []kafka.Message, want expected) map[string]string {
	t.Helper()
	about := map[string]string{}
	claim := func(id, what string) {
		if prev, ok := about[id]; ok && prev != what {
			t.Errorf("event id %s names two distinct events: %s and %s", id, prev, what)
		}
		about[id] = what
	}
	checkCEID := func(m kafka.Message, id string) {
		for _, h := range m.Headers {
			if h.Key == events.HeaderCEID && string(h.Value) != id {
				t.Errorf("ce_id %q, body event_id %q", h.Value, id)
			}
		}
	}
	for i, ev := range decodeResults(t, results) {
		checkCEID(results[i], ev.EventID)
		if ev.EventID != events.ResultEventID(ev.Source, ev.Model) {
			t.Errorf("result %s: id is not ResultEventID of its source and model", ev.EventID)
		}
		claim(ev.EventID, "result "+ev.Source.Bucket+"/"+ev.Source.Key+"/"+ev.Source.ETag)
	}
	byKey := map[string]idMessage{}
	for _, m := range msgs {
		byKey[m.key] = m
	}
	for i, ev := range decodeDeadLetters(t, deadLetters) {
		checkCEID(deadLetters[i], ev.EventID)
		m := byKey[ev.Original.Key.Data]
		what, ok := deadLetterSubject(m, ev)
		if !ok {
			t.Errorf("dead letter %s (%s, %s) matches no expected failure of message %q", ev.EventID, ev.ErrorClass, ev.Reason, m.key)
			continue
		}
		claim(ev.EventID, what)
	}
	results2 := 0
	for _, what := range about {
		if strings.HasPrefix(what, "result ") {
			results2++
		}
	}
	if results2 != len(want.results) || len(about)-results2 != want.deadLetters {
		t.Errorf("%d distinct result ids and %d distinct dead-letter ids, want %d and %d",
			results2, len(about)-results2, len(want.results), want.deadLetters)
	}
	return about
}

// deadLetterSubject finds the failure of m that ev reports, by recomputing the id of each candidate: it
// returns a description of the distinct event.
func deadLetterSubject(m idMessage, ev events.DeadLetterEvent) (string, bool) {
	o := ev.Original
	coords := fmt.Sprintf("%s/%d/%d", o.Topic, o.Partition, o.Offset)
	if m.malformed {
		return "message " + coords, ev.Source == nil && ev.EventID == events.DeadLetterEventID(o.Topic, o.Partition, o.Offset, nil)
	}
	for _, r := range m.records {
		class, ok := m.outcome(r)
		v := r.version()
		if !ok && class == ev.ErrorClass && ev.EventID == events.DeadLetterEventID(o.Topic, o.Partition, o.Offset, &v) {
			return fmt.Sprintf("dead letter %s of %s/%s/%s", coords, r.bucket, r.key, r.etag), true
		}
	}
	return "", false
}

// TestTwoMissingRecordsTwoDeadLetterIDs: one notification naming two missing objects gives two dead letters with
// two ids (the defect: both had the message's id); after the pipeline stops, its group is rewound and a restarted
// pipeline gets the message again, its two dead letters have the same two ids.
func TestTwoMissingRecordsTwoDeadLetterIDs(t *testing.T) {
	s := startStack(t)
	dlq := s.collect(t, dlqTopic)
	msg := idMessage{key: "two-missing", records: []idRecord{
		{bucket: bucket, key: uploads + "qa/missing-rec0.jpg", kind: "missing"},
		{bucket: bucket, key: uploads + "qa/missing-rec1.jpg", kind: "missing"},
	}}
	s.produceIDMessages(t, []idMessage{msg})
	modelFile := writeModel(t, exportTiny(t, "v1", 1))
	var ids [2][]string
	for run := range ids {
		in := s.startPipeline(t, pipeline.ModelSource{File: modelFile}, testLogger(t))
		waitFor(t, 60*time.Second, "two dead letters", func() bool { return len(dlq.snapshot()) >= 2*(run+1) })
		waitFor(t, 30*time.Second, "the input committed to the end", func() bool { return s.committedToEnd(t) })
		in.stop(t)
		for _, ev := range decodeDeadLetters(t, dlq.snapshot()[2*run:]) {
			ids[run] = append(ids[run], ev.EventID)
		}
		s.rewindGroup(t)
	}
	slices.Sort(ids[0])
	slices.Sort(ids[1])
	if len(ids[0]) != 2 || ids[0][0] == ids[0][1] {
		t.Fatalf("dead-letter ids %v, want two distinct ids", ids[0])
	}
	if !slices.Equal(ids[0], ids[1]) {
		t.Errorf("after the redelivery the ids are %v, want %v", ids[1], ids[0])
	}
}

// rewindGroup sets the pipelines' group back to the start of every input partition, as an operator's offset reset
// does: the next pipeline gets every message again.
func (s *stack) rewindGroup(t *testing.T) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(s.kafka.Brokers()...), Timeout: 10 * time.Second}
	commits := make([]kafka.OffsetCommit, 4)
	for p := range commits {
		commits[p] = kafka.OffsetCommit{Partition: p, Offset: 0}
	}
	resp, err := client.OffsetCommit(context.Background(), &kafka.OffsetCommitRequest{GroupID: "vitseg", GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{inputTopic: commits}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range resp.Topics[inputTopic] {
		if p.Error != nil {
			t.Fatalf("rewind partition %d: %v", p.Partition, p.Error)
		}
	}
}
