package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
)

// ledger reads the input, result and dead-letter topics from the beginning, to count the messages in and the
// results out.
type ledger struct {
	s                      *stack
	inputs, results, deads *collector
}

func (s *stack) newLedger(t *testing.T) *ledger {
	t.Helper()
	return &ledger{s: s, inputs: s.collect(t, inputTopic, partitions), results: s.collect(t, resultTopic, partitions),
		deads: s.collect(t, dlqTopic, 1)}
}

// tally is what a ledger counted.
type tally struct {
	Inputs     int // input messages naming the expected objects
	Expected   int // distinct objects expected
	Results    int // result events
	Unique     int // distinct objects with a result
	Duplicates int // result events beyond the first per object (each an identical overwrite)
	Dead       int // dead-letter events
	Lost       int // expected objects without a result
}

// resultsByKey decodes the result events read so far, by source key.
func (l *ledger) resultsByKey(t *testing.T) map[string][]events.ResultEvent {
	t.Helper()
	out := map[string][]events.ResultEvent{}
	for _, m := range l.results.snapshot() {
		var ev events.ResultEvent
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatalf("result event at %d/%d: %v", m.Partition, m.Offset, err)
		}
		out[ev.Source.Key] = append(out[ev.Source.Key], ev)
	}
	return out
}

// deadLetters decodes the dead-letter events read so far.
func (l *ledger) deadLetters(t *testing.T) []events.DeadLetterEvent {
	t.Helper()
	var out []events.DeadLetterEvent
	for _, m := range l.deads.snapshot() {
		var ev events.DeadLetterEvent
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatalf("dead-letter event at %d: %v", m.Offset, err)
		}
		out = append(out, ev)
	}
	return out
}

// countDone returns how many of keys have a result event.
func (l *ledger) countDone(t *testing.T, keys []string) int {
	t.Helper()
	got := l.resultsByKey(t)
	n := 0
	for _, k := range keys {
		if len(got[k]) > 0 {
			n++
		}
	}
	return n
}

// waitResults waits until at least n of keys have a result event.
func (l *ledger) waitResults(t *testing.T, keys []string, n int, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "results", func() bool { return l.countDone(t, keys) >= n })
}

// verify waits until every key has a result and the group has committed the whole input topic, then checks
// the books: every input message names an expected key, every key has a result, duplicates are identical
// overwrites (same event ID, same mask), every mask exists under the output prefix and nothing went to the
// dead-letter topic.
func (l *ledger) verify(t *testing.T, keys []string, timeout time.Duration) tally {
	t.Helper()
	deadline := time.Now().Add(timeout)
	if !poll(timeout, func() bool { return l.countDone(t, keys) == len(keys) }) {
		t.Errorf("after %s only %d of %d objects have a result", timeout, l.countDone(t, keys), len(keys))
	}
	if !poll(max(time.Until(deadline), 10*time.Second), l.s.allCommitted) {
		c, _ := l.s.committed()
		e, _ := l.s.endOffsets(inputTopic, partitions)
		t.Errorf("input not fully committed: committed %v, end %v", c, e)
	}
	l.inputs.syncTo(t, l.s, partitions)
	l.results.syncTo(t, l.s, partitions)
	l.deads.syncTo(t, l.s, 1)

	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	tl := tally{Expected: len(keys)}
	announced := map[string]int{}
	for _, m := range l.inputs.snapshot() {
		refs, err := consumer.ParseMessage(m.Value)
		if err != nil {
			t.Errorf("input %d/%d does not parse: %v", m.Partition, m.Offset, err)
			continue
		}
		for _, r := range refs {
			if !want[r.Key] {
				t.Errorf("input %d/%d names an unexpected object %s", m.Partition, m.Offset, r)
				continue
			}
			announced[r.Key]++
			tl.Inputs++
		}
	}
	for _, k := range keys {
		if announced[k] == 0 {
			t.Errorf("no input message announced %s", k)
		}
	}
	byKey := l.resultsByKey(t)
	ctx := context.Background()
	for k, evs := range byKey {
		if !want[k] {
			t.Errorf("result for an unexpected object %s", k)
			continue
		}
		tl.Results += len(evs)
		tl.Unique++
		tl.Duplicates += len(evs) - 1
		first := evs[0]
		for _, ev := range evs[1:] {
			if ev.EventID != first.EventID || ev.Mask != first.Mask {
				t.Errorf("%s processed twice with different outcomes: %s %v vs %s %v", k, first.EventID, first.Mask, ev.EventID, ev.Mask)
			}
		}
		if !strings.HasPrefix(first.Mask.Key, outputPrefix) || first.Mask.Bucket != bucket {
			t.Errorf("mask of %s written to %s/%s, outside %s/%s", k, first.Mask.Bucket, first.Mask.Key, bucket, outputPrefix)
		}
		if _, err := l.s.s3.StatObject(ctx, first.Mask.Bucket, first.Mask.Key, minio.StatObjectOptions{}); err != nil {
			t.Errorf("mask of %s: %v", k, err)
		}
	}
	for _, k := range keys {
		if len(byKey[k]) == 0 {
			tl.Lost++
		}
	}
	for _, d := range l.deadLetters(t) {
		tl.Dead++
		t.Errorf("unexpected dead letter: %s: %s (source %v)", d.ErrorClass, d.Reason, d.Source)
	}
	if tl.Lost > 0 {
		t.Errorf("%d of %d objects lost", tl.Lost, len(keys))
	}
	l.crossCheck(t, keys, byKey)
	t.Logf("ledger: %+v", tl)
	return tl
}

// auditCommits checks that nothing was committed for unfinished work: every input message below the group's
// committed offset has its result or dead-letter event already written. It returns the number of committed
// messages it checked.
func (l *ledger) auditCommits(t *testing.T) int {
	t.Helper()
	committed, err := l.s.committed()
	if err != nil {
		t.Fatalf("committed offsets: %v", err)
	}
	// Results written before this point are what the committed offsets may cover.
	l.results.syncTo(t, l.s, partitions)
	l.deads.syncTo(t, l.s, 1)
	waitFor(t, 30*time.Second, "the input collector to reach the committed offsets", func() bool {
		return l.inputs.caughtUp(committed)
	})
	finished := map[string]bool{}
	for k := range l.resultsByKey(t) {
		finished[k] = true
	}
	for _, d := range l.deadLetters(t) {
		if d.Source != nil {
			finished[d.Source.Key] = true
		}
	}
	checked := 0
	for _, m := range l.inputs.snapshot() {
		if m.Offset >= committed[m.Partition] {
			continue
		}
		checked++
		refs, err := consumer.ParseMessage(m.Value)
		if err != nil {
			continue // a malformed message has no object to finish
		}
		for _, r := range refs {
			if !finished[r.Key] {
				t.Errorf("input %d/%d (%s) is committed (group at %d) but has no result or dead letter",
					m.Partition, m.Offset, r.Key, committed[m.Partition])
			}
		}
	}
	return checked
}
