package e2e

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
)

// TestDeadLetterTooLargeForItsTopic: the dead-letter topic only takes 16 KiB messages, so the dead letter of a
// 100 KiB malformed message (which copies 64 KiB of it) cannot be written. The pipeline writes it without the
// copy of the original message (sizes kept) instead of retrying forever, and goes on.
func TestDeadLetterTooLargeForItsTopic(t *testing.T) {
	s := startStack(t, stackConfig{dlqMaxBytes: 16 << 10})
	l := s.newLedger(t)
	srv := s.startServe(t, serveConfig{model: tinyModel(t, 1)})
	value := bytes.Repeat([]byte("z"), 100<<10)
	s.produce(t, inputTopic, kafka.Message{Key: []byte("big-garbage"), Value: value})
	keys := s.uploadPhotos(t, samplePhotos(t), "after.jpg")
	l.waitResults(t, keys, 1, 60*time.Second)
	waitFor(t, 60*time.Second, "the input to be committed", s.allCommitted)
	l.deads.syncTo(t, s, 1)
	deads := l.deadLetters(t)
	if len(deads) != 1 {
		t.Fatalf("%d dead letters, want 1", len(deads))
	}
	d := deads[0]
	v := d.Original.Value
	if v.Size != len(value) || !v.Truncated || v.Data != "" || len(d.Original.Headers) != 0 {
		t.Errorf("original value %+v (headers %d), want size %d, truncated, no data", v, len(d.Original.Headers), len(value))
	}
	if !strings.HasPrefix(d.Reason, "malformed message: not a JSON object") {
		t.Errorf("reason %q", d.Reason)
	}
	if len(srv.logLines("dead-letter event too large for its topic; writing it without the original message")) != 1 {
		t.Error("no log line for the stripped dead letter")
	}
	t.Logf("FIGURES fault=dlq-too-small dead_letter=%s %q size=%d", d.ErrorClass, d.Reason, v.Size)
}

// TestShutdownWhileDeadLetterBlocked: the dead-letter topic does not exist, so a malformed message's dead
// letter is retried without end. SIGTERM still stops the pipeline within --drain-timeout, the message stays
// uncommitted, and once the topic exists a restarted pipeline dead-letters it: nothing lost.
func TestShutdownWhileDeadLetterBlocked(t *testing.T) {
	const missing = "vitseg.deadletter.late"
	s := startStack(t, stackConfig{})
	srv := s.startServe(t, serveConfig{model: tinyModel(t, 1), args: []string{"--kafka-dlq-topic", missing, "--drain-timeout", "3s"}})
	s.produce(t, inputTopic, kafka.Message{Key: []byte("garbage"), Value: []byte("not json")})
	waitFor(t, 60*time.Second, "dead-letter retries", func() bool {
		return srv.metric("vitseg_retries_total", `operation="kafka_produce_deadletter"`) >= 1
	})
	started := time.Now()
	if err := srv.signal(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
	took := time.Since(started)
	if len(srv.logLines("drain deadline passed; unfinished messages stay uncommitted and will be redelivered")) != 1 {
		t.Error("no drain-deadline log line")
	}
	if !s.allCommittedBut(1) {
		t.Error("the malformed message was committed without its dead letter")
	}

	s.kafka.CreateTopics(testenv.Topic{Name: missing, Partitions: 1})
	deads := s.collect(t, missing, 1)
	srv.start()
	srv.waitReady(60 * time.Second)
	waitFor(t, 60*time.Second, "the dead letter and the commit", func() bool { return len(deads.snapshot()) == 1 && s.allCommitted() })
	t.Logf("FIGURES fault=dlq-missing sigterm_exit_after=%s", took.Round(time.Millisecond))
}

// allCommittedBut reports whether the group's committed offsets leave exactly n messages of the input topic
// uncommitted.
func (s *stack) allCommittedBut(n int64) bool {
	ends, err := s.endOffsets(inputTopic, partitions)
	if err != nil {
		return false
	}
	done, err := s.committed()
	if err != nil {
		return false
	}
	var left int64
	for p, end := range ends {
		left += end - max(done[p], 0)
	}
	return left == n
}
