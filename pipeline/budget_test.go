package pipeline_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/pipeline"
)

// TestRetryBudgetDeadLettersADamagedObject: one object is damaged on MinIO's drive, so every read of it fails
// with a 5xx (transient) answer while MinIO serves every other object. Good photos keep arriving around it.
// The damaged one is dead-lettered retries_exhausted after the budget, the rest get results, the input is
// committed to the end and readiness stays 200 throughout.
func TestRetryBudgetDeadLettersADamagedObject(t *testing.T) {
	s := startStack(t)
	results := s.collect(t, resultTopic)
	dead := s.collect(t, dlqTopic)
	photo := samplePhotos(t)[1]
	const damaged = uploads + "damaged.jpg"
	s.putObject(t, damaged, photo)
	s.minio.Damage(bucket, damaged)
	in := s.startPipeline(t, pipeline.ModelSource{File: writeModel(t, exportTiny(t, "v1", 1))}, testLogger(t),
		func(c *pipeline.Config) {
			c.RetryBudget, c.RetryMin, c.RetryMax = 3, 20*time.Millisecond, 200*time.Millisecond
		})

	good := 0
	deadline := time.Now().Add(60 * time.Second)
	for len(dead.snapshot()) == 0 && time.Now().Before(deadline) {
		s.putObject(t, fmt.Sprintf("%sgood-%03d.jpg", uploads, good), photo)
		good++
		time.Sleep(150 * time.Millisecond)
		if code, st := in.readyz(t); code != http.StatusOK && len(results.snapshot()) > 0 {
			t.Errorf("readyz %d %+v while one object keeps failing", code, st)
		}
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("%d results", good), func() bool { return len(results.snapshot()) >= good })
	evs := decodeDeadLetters(t, dead.snapshot())
	if len(evs) != 1 || evs[0].ErrorClass != events.ClassRetriesExhausted || evs[0].Source == nil ||
		evs[0].Source.Key != damaged || !strings.Contains(evs[0].Reason, "retries exhausted: s3_get") {
		t.Fatalf("dead letters %+v, want one retries_exhausted for %s", evs, damaged)
	}
	t.Logf("dead letter after %d good uploads: %s", good, evs[0].Reason)
	if code, st := in.readyz(t); code != http.StatusOK {
		t.Errorf("readyz %d %+v after the dead letter", code, st)
	}
	s.waitCommittedToEnd(t)
}
