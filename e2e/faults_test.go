package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/pipeline"
)

// How long MinIO stays down in TestS3OutageMidStream, in CI mode and with VITSEG_LONG=1.
const (
	s3OutageCI   = 8 * time.Second
	s3OutageLong = 30 * time.Second
)

// anyCommitted reports whether the group has committed some offset of the input topic, and returns them.
func (s *stack) anyCommitted() (map[int]int64, bool) {
	c, err := s.committed()
	if err != nil {
		return nil, false
	}
	for _, o := range c {
		if o > 0 {
			return c, true
		}
	}
	return c, false
}

// waitCommitted waits until the group has committed some offset and returns the committed offsets.
func (s *stack) waitCommitted(t *testing.T) map[int]int64 {
	t.Helper()
	var c map[int]int64
	waitFor(t, 30*time.Second, "a first commit", func() bool {
		var ok bool
		c, ok = s.anyCommitted()
		return ok
	})
	return c
}

// checkRedeliveryAbove checks that no object whose input message was committed at the time of before was
// processed twice: redelivery after a fault starts at the committed offsets, never below.
func (l *ledger) checkRedeliveryAbove(t *testing.T, before map[int]int64) {
	t.Helper()
	byKey := l.resultsByKey(t)
	offsetOf := map[string]kafka.Message{}
	for _, m := range l.inputs.snapshot() {
		if refs, err := consumer.ParseMessage(m.Value); err == nil && len(refs) == 1 {
			offsetOf[refs[0].Key] = m
		}
	}
	for k, evs := range byKey {
		m, ok := offsetOf[k]
		if len(evs) > 1 && ok && m.Offset < before[m.Partition] {
			t.Errorf("%s (input %d/%d) processed %d times although committed (group at %d) before the fault",
				k, m.Partition, m.Offset, len(evs), before[m.Partition])
		}
	}
}

// waitReadyz polls /readyz until it answers code.
func (p *proc) waitReadyz(t *testing.T, code int, timeout time.Duration) pipeline.Status {
	t.Helper()
	var r pipeline.Status
	waitFor(t, timeout, fmt.Sprintf("%s /readyz %d", p.name, code), func() bool {
		var got int
		got, r = p.readyz()
		return got == code
	})
	return r
}

// TestBrokerRestartMidStream: the dev broker is restarted (same address, same data directory) while the
// pipeline works through a backlog. The pipeline rides it out: every object gets its result, the whole input is
// committed, no committed message lacks its result, and redelivery starts at the committed offsets.
func TestBrokerRestartMidStream(t *testing.T) {
	s := startStack(t, stackConfig{})
	l := s.newLedger(t)
	photos := samplePhotos(t)
	keys := s.uploadPhotos(t, photos, names("before", pick(80, 200))...)
	srv := s.startServe(t, serveConfig{model: tinyModel(t, 1)})
	l.waitResults(t, keys, 10, 60*time.Second)
	before := s.waitCommitted(t)

	started := time.Now()
	s.kafka.Restart()
	t.Logf("broker restarted in %s with %d of %d objects done, committed %v", time.Since(started).Round(time.Millisecond),
		l.countDone(t, keys), len(keys), before)
	checked := l.auditCommits(t)

	// New uploads after the restart: MinIO's notification target reconnects too.
	keys = append(keys, s.uploadPhotos(t, photos, names("after", 20)...)...)
	tl := l.verify(t, keys, 120*time.Second)
	checked += l.auditCommits(t)
	l.checkRedeliveryAbove(t, before)
	r := srv.waitReadyz(t, http.StatusOK, 15*time.Second)
	t.Logf("FIGURES fault=broker-restart in=%d unique=%d duplicates=%d lost=%d audited=%d commit_failures=%v ready=%+v",
		tl.Inputs, tl.Unique, tl.Duplicates, tl.Lost, checked, srv.metric("vitseg_commit_failures_total"), r)
}

// TestS3OutageMidStream: MinIO is stopped mid-stream for s3OutageCI (s3OutageLong with VITSEG_LONG=1). The
// pipeline pauses and retries, /readyz answers 503, nothing is committed for unfinished work (messages produced
// during the outage included), and it resumes by itself when MinIO is back.
func TestS3OutageMidStream(t *testing.T) {
	s3Outage := pick(s3OutageCI, s3OutageLong)
	s := startStack(t, stackConfig{})
	l := s.newLedger(t)
	photos := samplePhotos(t)
	keys := s.uploadPhotos(t, photos, names("before", pick(80, 200))...)
	// Objects outside the notified prefix, announced by plain references produced while MinIO is down.
	var direct []string
	for i, n := range names("direct", 20) {
		direct = append(direct, "direct/"+n)
		s.put(t, bucket, "direct/"+n, photos[i%len(photos)])
	}
	srv := s.startServe(t, serveConfig{model: tinyModel(t, 1), args: []string{"--allow", bucket + "/direct/"}})
	l.waitResults(t, keys, 10, 60*time.Second)

	down := time.Now()
	s.minio.Stop()
	doneAtStop := l.countDone(t, keys)
	msgs := make([]kafka.Message, len(direct))
	for i, k := range direct {
		msgs[i] = kafka.Message{Key: []byte(k), Value: ref(bucket, k)}
	}
	s.produce(t, inputTopic, msgs...)
	r := srv.waitReadyz(t, http.StatusServiceUnavailable, s3Outage)
	if r.S3 || !r.Kafka || !r.ModelLoaded {
		t.Errorf("readyz during the outage: %+v, want only S3 down", r)
	}
	notReadyAfter := time.Since(down)
	checked := l.auditCommits(t)
	time.Sleep(time.Until(down.Add(s3Outage / 2)))
	all := append(append([]string(nil), keys...), direct...)
	midway := l.countDone(t, all)
	checked += l.auditCommits(t)
	time.Sleep(time.Until(down.Add(s3Outage)))
	paused := l.countDone(t, all)
	checked += l.auditCommits(t)
	if paused != midway {
		t.Errorf("%d results appeared in the second half of the S3 outage; the pipeline should be paused", paused-midway)
	}
	if code, r := srv.readyz(); code != http.StatusServiceUnavailable {
		t.Errorf("readyz %d %+v at the end of the outage", code, r)
	}
	retries := srv.metric("vitseg_retries_total", `operation="s3_get"`) + srv.metric("vitseg_retries_total", `operation="s3_put"`)
	if retries == 0 {
		t.Error("no S3 retries counted during the outage")
	}

	s.minio.Restart()
	back := time.Now()
	srv.waitReadyz(t, http.StatusOK, 30*time.Second)
	readyAfter := time.Since(back)
	tl := l.verify(t, all, 120*time.Second)
	checked += l.auditCommits(t)
	if !srv.running() {
		t.Error("serve exited")
	}
	t.Logf("FIGURES fault=s3-outage outage=%s done_at_stop=%d done_at_end_of_outage=%d not_ready_after=%s ready_again_after=%s s3_retries=%v in=%d unique=%d duplicates=%d lost=%d audited=%d",
		s3Outage, doneAtStop, paused, notReadyAfter.Round(time.Millisecond), readyAfter.Round(time.Millisecond), retries,
		tl.Inputs, tl.Unique, tl.Duplicates, tl.Lost, checked)
}

// TestKillMidBatch: the pipeline is SIGKILLed while batches are in flight and started again. Nothing committed
// lacks its result, the restarted process picks up at the committed offsets and every object gets its result.
func TestKillMidBatch(t *testing.T) {
	s := startStack(t, stackConfig{})
	l := s.newLedger(t)
	photos := samplePhotos(t)
	keys := s.uploadPhotos(t, photos, names("before", pick(100, 300))...)
	srv := s.startServe(t, serveConfig{model: tinyModel(t, 1)})
	l.waitResults(t, keys, 10, 60*time.Second)
	s.waitCommitted(t)
	_, r := srv.readyz()
	if r.InFlight == 0 {
		t.Fatalf("nothing in flight before the kill: %+v", r)
	}
	srv.kill()
	before, err := s.committed()
	if err != nil {
		t.Fatal(err)
	}
	doneAtKill := l.countDone(t, keys)
	checked := l.auditCommits(t)

	srv.start()
	srv.waitReady(60 * time.Second)
	keys = append(keys, s.uploadPhotos(t, photos, names("after", 20)...)...)
	tl := l.verify(t, keys, 120*time.Second)
	checked += l.auditCommits(t)
	l.checkRedeliveryAbove(t, before)
	t.Logf("FIGURES fault=sigkill in_flight_at_kill=%d done_at_kill=%d committed_at_kill=%v in=%d unique=%d duplicates=%d lost=%d audited=%d",
		r.InFlight, doneAtKill, before, tl.Inputs, tl.Unique, tl.Duplicates, tl.Lost, checked)
}

// TestRegistryBadModel: the registry pointer is moved to a version whose model.onnx is missing, then to a
// corrupt one. Each reload is refused, logged and counted; the old model keeps serving; a good version promoted
// afterwards is picked up.
func TestRegistryBadModel(t *testing.T) {
	ctx := context.Background()
	s := startStack(t, stackConfig{})
	s.minio.MakeBucket("models")
	reg := registry.New(s.s3, "models", "vitseg")
	upload := func(version string, seed int64, corrupt bool) {
		t.Helper()
		b := []byte("not an onnx model")
		if !corrupt {
			var err error
			if b, err = os.ReadFile(tinyModel(t, seed)); err != nil {
				t.Fatal(err)
			}
		}
		if err := reg.Upload(ctx, version, b, registry.VersionMetadata{Metrics: map[string]float64{"pixel_accuracy": 0.5},
			EvalSplit: "val@e2e", Status: registry.StatusPublished}, ""); err != nil {
			t.Fatal(err)
		}
	}
	upload("000001", 1, false)
	if _, err := reg.Promote(ctx, "000001"); err != nil {
		t.Fatal(err)
	}
	l := s.newLedger(t)
	photos := samplePhotos(t)
	srv := s.startServe(t, serveConfig{args: []string{"--registry-bucket", "models", "--model-name", "vitseg", "--registry-poll", "300ms"}})
	keys := s.uploadPhotos(t, photos, names("v1", 10)...)
	l.waitResults(t, keys, len(keys), 60*time.Second)

	// Version 2 is uploaded, its model.onnx deleted, and the pointer moved by hand (Promote would refuse it).
	upload("000002", 2, false)
	if err := s.s3.RemoveObject(ctx, "models", "models/vitseg/000002/model.onnx", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	ptr, err := json.Marshal(registry.Pointer{Version: "000002", Previous: "000001", UpdatedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	s.put(t, "models", "models/vitseg/current.json", ptr)
	waitFor(t, 30*time.Second, "the failed reload of 000002 to be counted", func() bool {
		return srv.metric("vitseg_model_reloads_total", `result="failed"`) >= 1
	})
	keys = append(keys, s.uploadPhotos(t, photos, names("missing", 10)...)...)
	l.waitResults(t, keys, len(keys), 60*time.Second)

	// Version 3 is corrupt bytes, promoted.
	upload("000003", 0, true)
	if _, err := reg.Promote(ctx, "000003"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the failed reload of 000003 to be counted", func() bool {
		return srv.metric("vitseg_model_reloads_total", `result="failed"`) >= 2
	})
	if code, r := srv.readyz(); code != http.StatusOK || r.ModelVersion != "000001" {
		t.Errorf("after two refused reloads: readyz %d %+v, want ready with 000001", code, r)
	}
	keys = append(keys, s.uploadPhotos(t, photos, names("corrupt", 10)...)...)
	l.waitResults(t, keys, len(keys), 60*time.Second)

	// A good version 4 is picked up.
	upload("000004", 3, false)
	if _, err := reg.Promote(ctx, "000004"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "version 000004 in use", func() bool {
		_, r := srv.readyz()
		return r.ModelVersion == "000004"
	})
	good := s.uploadPhotos(t, photos, names("v4", 5)...)
	keys = append(keys, good...)
	tl := l.verify(t, keys, 60*time.Second)

	byKey := l.resultsByKey(t)
	for i, k := range keys {
		want := "000001"
		if i >= 30 {
			want = "000004"
		}
		for _, ev := range byKey[k] {
			if ev.Model.Version != want {
				t.Errorf("%s served by %s, want %s", k, ev.Model.Version, want)
			}
		}
	}
	refused := srv.logLines("model reload refused; the old model keeps serving")
	versions := map[any]string{}
	for _, rec := range refused {
		versions[rec["version"]] = fmt.Sprint(rec["error"])
	}
	for _, v := range []string{"000002", "000003"} {
		if _, ok := versions[v]; !ok {
			t.Errorf("no 'model reload refused' log line for %s (got %v)", v, versions)
		}
	}
	t.Logf("refused reloads: %v", versions)
	t.Logf("FIGURES fault=registry-bad-model reloads_failed=%v reloads_loaded=%v in=%d unique=%d duplicates=%d lost=%d",
		srv.metric("vitseg_model_reloads_total", `result="failed"`), srv.metric("vitseg_model_reloads_total", `result="loaded"`),
		tl.Inputs, tl.Unique, tl.Duplicates, tl.Lost)
}

// uploader puts photos under uploads/ at a steady rate until stopped, so that faults land mid-stream.
type uploader struct {
	mu   sync.Mutex
	keys []string
	err  error
	stop chan struct{}
	done chan struct{}
}

func (s *stack) startUploader(photos [][]byte, prefix string, perSecond int) *uploader {
	u := &uploader{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(u.done)
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-u.stop:
				return
			case <-tick.C:
			}
			key := fmt.Sprintf("%s%s-%05d.jpg", uploads, prefix, i)
			data := photos[i%len(photos)]
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := s.s3.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
			cancel()
			u.mu.Lock()
			if err != nil {
				u.err = err
			} else {
				u.keys = append(u.keys, key)
			}
			u.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return u
}

// finish stops the uploads and returns the keys written.
func (u *uploader) finish(t *testing.T) []string {
	t.Helper()
	close(u.stop)
	<-u.done
	if u.err != nil {
		t.Fatalf("uploader: %v", u.err)
	}
	return u.keys
}

// TestRebalanceMidStream: while images stream in, a second `vitseg serve` joins the consumer group (a
// rebalance with batches in flight) and later leaves it (another one). Both process a share; nothing is lost.
func TestRebalanceMidStream(t *testing.T) {
	s := startStack(t, stackConfig{})
	l := s.newLedger(t)
	u := s.startUploader(samplePhotos(t), "stream", 20)
	a := s.startServe(t, serveConfig{name: "serve-a", model: tinyModel(t, 1)})
	waitFor(t, 60*time.Second, "20 results", func() bool { return len(l.results.snapshot()) >= 20 })
	b := s.startServe(t, serveConfig{name: "serve-b", model: tinyModel(t, 1)})
	waitFor(t, 60*time.Second, "serve-b to process images", func() bool { return b.metric("vitseg_images_processed_total") >= 10 })
	bProcessed := b.metric("vitseg_images_processed_total")
	if err := b.stop(); err != nil {
		t.Errorf("serve-b: %v", err)
	}
	checked := l.auditCommits(t)
	time.Sleep(pick(3*time.Second, 10*time.Second))
	keys := u.finish(t)
	tl := l.verify(t, keys, 120*time.Second)
	checked += l.auditCommits(t)
	aProcessed := a.metric("vitseg_images_processed_total")
	if aProcessed <= 0 || bProcessed <= 0 {
		t.Errorf("processed by a: %v, by b: %v; want both", aProcessed, bProcessed)
	}
	if len(a.logLines("partition restarted (rebalance or redelivery)")) == 0 && len(b.logLines("partition restarted (rebalance or redelivery)")) == 0 {
		t.Log("no partition was restarted: the rebalances moved partitions without redelivery")
	}
	t.Logf("FIGURES fault=rebalance uploaded=%d processed_a=%v processed_b=%v in=%d unique=%d duplicates=%d lost=%d audited=%d",
		len(keys), aProcessed, bProcessed, tl.Inputs, tl.Unique, tl.Duplicates, tl.Lost, checked)
}
