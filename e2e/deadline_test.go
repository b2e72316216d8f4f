package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
)

// TestMaxAgeExpiresOldReferences: with --max-age 1h a reference whose Kafka timestamp is two hours old is
// dead-lettered expired without being fetched; a fresh one is processed.
func TestMaxAgeExpiresOldReferences(t *testing.T) {
	s := startStack(t, stackConfig{})
	l := s.newLedger(t)
	s.startServe(t, serveConfig{model: tinyModel(t, 1), args: []string{"--allow", bucket + "/" + manual, "--max-age", "1h"}})
	old, fresh := manual+"old.jpg", manual+"fresh.jpg"
	s.put(t, bucket, old, samplePhotos(t)[0])
	s.put(t, bucket, fresh, samplePhotos(t)[1])
	s.produce(t, inputTopic, kafka.Message{Key: []byte(old), Value: ref(bucket, old), Time: time.Now().Add(-2 * time.Hour)},
		kafka.Message{Key: []byte(fresh), Value: ref(bucket, fresh)})
	l.waitResults(t, []string{fresh}, 1, 60*time.Second)
	waitFor(t, 60*time.Second, "the expired reference's dead letter", func() bool { return len(l.deadLetters(t)) == 1 })
	d := l.deadLetters(t)[0]
	if d.ErrorClass != events.ClassExpired || d.Source == nil || d.Source.Key != old || !strings.Contains(d.Reason, "over the limit of 1h0m0s") {
		t.Errorf("dead letter %s %v: %s", d.ErrorClass, d.Source, d.Reason)
	}
	if got := l.resultsByKey(t); len(got[old]) != 0 {
		t.Errorf("the expired reference was processed: %v", got[old])
	}
	waitFor(t, 60*time.Second, "the input to be committed", s.allCommitted)
}
