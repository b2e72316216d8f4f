package e2e

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
)

// otherBucket exists but is off the allow-list of TestStreamProperty.
const otherBucket = "other-pets"

// TestStreamProperty: hundreds of generated inputs on one partition — good photos of every supported format
// under keys of 1 to 1,024 bytes in several scripts, interleaved with hostile references (control characters,
// unusual buckets, keys too long or not UTF-8, "..") and objects (vanished, replaced after their notification,
// damaged on the drive, oversized, pixel bombs and malformed files of every format) and with messages that are
// not references at all. Every good photo gets its result (mask key by the rule of events.MaskKey, mask
// stored), every bad input a dead letter of the expected class with a reason, the ignored ones nothing; the
// committed offset reaches the end of the partition, and /readyz stays 200 throughout. VITSEG_PROP_SEED
// replays a seed.
func TestStreamProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("VITSEG_PROP_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (VITSEG_PROP_SEED=%d replays it)", seed, seed)
	s := startStack(t, stackConfig{})
	s.minio.MakeBucket(otherBucket)
	l := s.newLedger(t)
	g := newPropGen(t, s, seed)
	g.generate(pick(80, 300))
	msgs := make([]kafka.Message, len(g.items))
	for i, it := range g.items {
		msgs[i] = kafka.Message{Key: []byte(it.id), Value: it.value}
	}
	s.produceToPartition(t, inputTopic, 0, msgs...)

	started := time.Now()
	srv := s.startServe(t, serveConfig{model: tinyModel(t, 1), args: []string{"--allow", bucket,
		"--max-image-bytes", "1048576", "--retry-budget", "3"}})
	notReady := watchReadiness(t, srv)
	waitFor(t, pick(90*time.Second, 5*time.Minute), "an outcome for every generated input", func() bool {
		return len(l.results.snapshot())+len(l.deads.snapshot()) >= len(g.items)-countIgnored(g.items)
	})
	waitFor(t, 30*time.Second, "the input partition committed to the end", s.allCommitted)
	took := time.Since(started)
	notReady.stop()
	tally := checkPropOutcomes(t, l, g.items)
	if n := notReady.count(); n > 0 {
		t.Errorf("/readyz was not 200 %d times after the pipeline was first ready", n)
	}
	t.Logf("FIGURES test=stream-property seed=%d inputs=%d processed_in=%s %v", seed, len(g.items), took.Round(time.Millisecond), tally)
}

// countIgnored counts the items that must leave no event.
func countIgnored(items []*propItem) int {
	n := 0
	for _, it := range items {
		if it.ignore {
			n++
		}
	}
	return n
}

// produceToPartition writes messages, in order, to one partition.
func (s *stack) produceToPartition(t *testing.T, topic string, partition int, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(s.kafka.Brokers()...), Topic: topic, BatchTimeout: 5 * time.Millisecond,
		BatchBytes: 16 << 20, RequiredAcks: kafka.RequireAll,
		Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return partition })}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce to %s/%d: %v", topic, partition, err)
	}
}

// readinessWatch polls /readyz every 200 ms and counts the answers other than 200.
type readinessWatch struct {
	mu   sync.Mutex
	bad  int
	done chan struct{}
	wg   sync.WaitGroup
}

func watchReadiness(t *testing.T, srv *proc) *readinessWatch {
	w := &readinessWatch{done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case <-w.done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if code, r := srv.readyz(); code != http.StatusOK {
				t.Logf("/readyz %d %+v", code, r)
				w.mu.Lock()
				w.bad++
				w.mu.Unlock()
			}
		}
	}()
	t.Cleanup(w.stop)
	return w
}

func (w *readinessWatch) stop() {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	w.wg.Wait()
}

func (w *readinessWatch) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bad
}

// checkPropOutcomes compares what came out with what each item expects and returns the counts by kind.
func checkPropOutcomes(t *testing.T, l *ledger, items []*propItem) map[string]int {
	t.Helper()
	results := l.resultsByKey(t)
	deads := map[string][]events.DeadLetterEvent{}
	for _, ev := range l.deadLetters(t) {
		id := ""
		if ev.Original.Key != nil {
			id = ev.Original.Key.Data
		}
		deads[id] = append(deads[id], ev)
	}
	tally := map[string]int{}
	for _, it := range items {
		tally[it.kind]++
		evs, dls := results[it.key], deads[it.id]
		delete(deads, it.id)
		switch {
		case it.ignore:
			if len(dls) > 0 {
				t.Errorf("%s (%s): dead-lettered %s, want nothing", it.id, it.kind, summarize(dls))
			}
		case it.class != "":
			if len(dls) != 1 || dls[0].ErrorClass != it.class || dls[0].Reason == "" {
				t.Errorf("%s (%s, message %.120q): dead letters %s, want one of class %s with a reason", it.id, it.kind, it.value, summarize(dls), it.class)
			}
		default:
			if len(dls) > 0 || len(evs) == 0 {
				t.Errorf("%s (%s, key of %d bytes %.60q): %d results, dead letters %s", it.id, it.kind, len(it.key), it.key, len(evs), summarize(dls))
				continue
			}
			checkPropResult(t, l, it, evs[0])
		}
	}
	for id, dls := range deads {
		t.Errorf("unexpected dead letters for %q: %s", id, summarize(dls))
	}
	return tally
}

// summarize lists the class and reason of each dead letter.
func summarize(dls []events.DeadLetterEvent) []string {
	out := make([]string, len(dls))
	for i, d := range dls {
		out[i] = string(d.ErrorClass) + ": " + d.Reason
	}
	return out
}

// checkPropResult checks one good photo's result: the ETag fetched, the mask key by the rule, the mask stored.
func checkPropResult(t *testing.T, l *ledger, it *propItem, ev events.ResultEvent) {
	t.Helper()
	want := events.MaskKey(outputPrefix, it.key, ev.Source.ETag, ev.Model.Version)
	if ev.Source.ETag != it.etag || ev.Mask.Key != want.Key || ev.Mask.KeyForm != want.Form || len(ev.Mask.Key) > events.MaxKeyBytes {
		t.Errorf("%s (%s): result etag %s mask %s %.60q, want etag %s mask %s %.60q", it.id, it.kind, ev.Source.ETag,
			ev.Mask.KeyForm, ev.Mask.Key, it.etag, want.Form, want.Key)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := l.s.s3.StatObject(ctx, ev.Mask.Bucket, ev.Mask.Key, minio.StatObjectOptions{})
	if err != nil || info.UserMetadata["Vitseg-Mask-Key-Form"] != string(want.Form) {
		t.Errorf("%s: mask %s: %v, metadata %v", it.id, ev.Mask.Key, err, info.UserMetadata)
	}
}
