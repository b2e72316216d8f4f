package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/ops/dlq"
)

// manual is a prefix the pipeline may read that has no bucket notification: its objects are processed only
// when a reference is produced for them, so a fixed object is seen again only through `vitseg dlq replay`.
const manual = "manual/"

// TestDeadLetterReplayRoundTrip: three unreadable images are dead-lettered bad_image; two are fixed under the
// same keys and `vitseg dlq replay` re-publishes the three references: the fixed ones get results, the broken
// one is dead-lettered again with attempt 2. A second replay skips the fixed ones (their latest outcome is a
// result) and the broken one, past --max-attempts 2, is dead-lettered attempts_exhausted; a replay with
// --include-processed reprocesses the fixed ones idempotently (same event_id, same mask) and leaves the exhausted
// one alone; a last replay skips everything.
func TestDeadLetterReplayRoundTrip(t *testing.T) {
	s := startStack(t, stackConfig{})
	l := s.newLedger(t)
	s.startServe(t, serveConfig{model: tinyModel(t, 1), args: []string{"--allow", bucket + "/" + manual, "--max-attempts", "2"}})
	photos := samplePhotos(t)
	bad := []string{manual + "bad-0.jpg", manual + "bad-1.jpg", manual + "bad-2.jpg"}
	good := manual + "good.jpg"
	for _, k := range bad {
		s.put(t, bucket, k, []byte("this is not an image"))
	}
	s.put(t, bucket, good, photos[0])
	var refs []kafka.Message
	for _, k := range append(bad, good) {
		refs = append(refs, kafka.Message{Key: []byte(k), Value: ref(bucket, k)})
	}
	s.produce(t, inputTopic, refs...)
	l.waitResults(t, []string{good}, 1, 60*time.Second)
	waitFor(t, 60*time.Second, "three dead letters", func() bool { return len(l.deadLetters(t)) == 3 })

	out, _, code := s.cli(t, "dlq", "list", "--class", "bad_image", "--kafka-dlq-topic", dlqTopic)
	if code != 0 || !strings.Contains(out, "bad_image: 3") {
		t.Fatalf("dlq list (exit %d):\n%s", code, out)
	}
	s.put(t, bucket, bad[0], photos[1])
	s.put(t, bucket, bad[1], photos[2])

	ends, err := s.endOffsets(inputTopic, partitions)
	if err != nil {
		t.Fatal(err)
	}
	out, _, code = s.cli(t, "dlq", "replay", "--class", "bad_image", "--dry-run")
	if code != 0 || !strings.Contains(out, "dry run: 3 of 3 dead letters would be replayed") || !strings.Contains(out, "pets/manual/bad-2.jpg (attempt 2)") {
		t.Fatalf("dlq replay --dry-run (exit %d):\n%s", code, out)
	}
	if after, err := s.endOffsets(inputTopic, partitions); err != nil || !equalOffsets(ends, after) {
		t.Fatalf("the dry run published: input end offsets %v -> %v (%v)", ends, after, err)
	}

	replay := func(want string, flags ...string) {
		t.Helper()
		out, errOut, code := s.cli(t, append([]string{"dlq", "replay", "--class", "bad_image"}, flags...)...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("dlq replay %v (exit %d), want %q:\n%s%s", flags, code, want, out, errOut)
		}
	}
	replay("replayed 3 of 3 dead letters")
	l.waitResults(t, bad[:2], 2, 60*time.Second)
	waitFor(t, 60*time.Second, "bad-2 dead-lettered again", func() bool { return len(lettersOf(l.deadLetters(t), bad[2])) == 2 })
	if again := lettersOf(l.deadLetters(t), bad[2])[1]; again.ErrorClass != events.ClassBadImage || dlq.Attempt(again) != 2 {
		t.Errorf("second letter of bad-2: %s, attempt %d", again.ErrorClass, dlq.Attempt(again))
	}

	// bad-0 and bad-1 were processed since their letters: only bad-2 is replayed, at attempt 3.
	replay("replayed 1 of 3 dead letters to vitseg.images; skipped 2 objects processed since they were dead-lettered")
	waitFor(t, 60*time.Second, "bad-2 out of attempts", func() bool { return len(lettersOf(l.deadLetters(t), bad[2])) == 3 })
	last := lettersOf(l.deadLetters(t), bad[2])[2]
	if last.ErrorClass != events.ClassAttemptsExhausted || !strings.Contains(last.Reason, "attempt 3 is over the limit of 2 attempts") {
		t.Errorf("third letter of bad-2: %s: %s", last.ErrorClass, last.Reason)
	}
	replay("replayed 2 of 2 dead letters", "--include-processed") // bad-2's latest letter is attempts_exhausted: not selected
	waitFor(t, 60*time.Second, "the fixed objects reprocessed", func() bool {
		got := l.resultsByKey(t)
		return len(got[bad[0]]) == 2 && len(got[bad[1]]) == 2
	})
	for _, k := range bad[:2] {
		evs := l.resultsByKey(t)[k]
		if evs[0].EventID != evs[1].EventID || evs[0].Mask != evs[1].Mask {
			t.Errorf("%s replayed with another outcome: %s %v vs %s %v", k, evs[0].EventID, evs[0].Mask, evs[1].EventID, evs[1].Mask)
		}
	}
	replay("replayed 0 of 2 dead letters to vitseg.images; skipped 2 objects processed")
	waitFor(t, 60*time.Second, "the input to be committed", s.allCommitted)
	t.Logf("FIGURES replay: %d dead letters, results %d", len(l.deadLetters(t)), len(l.results.snapshot()))
}

// lettersOf returns the dead letters of one source key, in topic order.
func lettersOf(all []events.DeadLetterEvent, key string) []events.DeadLetterEvent {
	var out []events.DeadLetterEvent
	for _, d := range all {
		if d.Source != nil && d.Source.Key == key {
			out = append(out, d)
		}
	}
	return out
}

func equalOffsets(a, b map[int]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for p, o := range a {
		if b[p] != o {
			return false
		}
	}
	return true
}
