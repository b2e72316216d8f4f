package pipeline_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/pipeline"
)

// TestLongSourceKeyDoesNotStall reproduces issue 14's stall against a real MinIO: an object whose legal
// 1,000-byte key (five 199-byte segments) leaves no room for the derived mask key. Its mask must be written under
// the bounded key form, its result event produced, the photo after it processed, the input committed to the end
// and readiness must stay 200.
func TestLongSourceKeyDoesNotStall(t *testing.T) {
	s := startStack(t)
	results := s.collect(t, resultTopic)
	dead := s.collect(t, dlqTopic)
	in := s.startPipeline(t, pipeline.ModelSource{File: writeModel(t, exportTiny(t, "v1", 1))}, testLogger(t))

	seg := strings.Repeat("a", 198)
	longKey := uploads + strings.Repeat(seg+"/", 4)
	longKey += strings.Repeat("b", 1000-len(longKey))
	if len(longKey) != 1000 {
		t.Fatalf("key is %d bytes, want 1000", len(longKey))
	}
	photo := samplePhotos(t)[0]
	s.putObject(t, longKey, photo)
	s.putObject(t, uploads+"after-long.jpg", photo)
	waitFor(t, 60*time.Second, "both result events", func() bool { return len(results.snapshot()) >= 2 })
	var got events.ResultEvent
	for _, ev := range decodeResults(t, results.snapshot()) {
		if ev.Source.Key == longKey {
			got = ev
		}
	}
	if got.Source.Key == "" {
		t.Fatal("no result event for the 1,000-byte key")
	}
	if len(got.Mask.Key) > events.MaxKeyBytes || got.Mask.KeyForm != events.MaskKeyBounded {
		t.Errorf("mask key of %d bytes (%s), want the bounded form within %d", len(got.Mask.Key),
			got.Mask.KeyForm, events.MaxKeyBytes)
	}
	info, err := s.s3.StatObject(context.Background(), got.Mask.Bucket, got.Mask.Key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("the mask of the long key: %v", err)
	}
	if src := info.UserMetadata["Vitseg-Source-Key-Sha256"]; src == "" {
		t.Errorf("mask metadata %v lacks the source key's hash", info.UserMetadata)
	}
	if n := len(dead.snapshot()); n != 0 {
		t.Errorf("%d dead letters, want none", n)
	}
	s.waitCommittedToEnd(t)
	if code, st := in.readyz(t); code != http.StatusOK || !st.Ready {
		t.Errorf("readyz %d %+v", code, st)
	}
}
