package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// runMainEnv makes the test binary act as devbroker itself, so that the
// signal handling of main can be tested on a real process.
const runMainEnv = "DEVBROKER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a broker
// and reads of a test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// broker is an in-process devbroker started by a test.
type broker struct {
	addrs  []string
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

// startBroker runs devbroker in-process with args plus an address file and
// waits until it reports its addresses.
func startBroker(t *testing.T, args ...string) *broker {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addrs")
	ctx, cancel := context.WithCancel(context.Background())
	b := &broker{cancel: cancel, done: make(chan error, 1), logs: new(syncBuffer)}
	go func() {
		b.done <- run(ctx, append(args, "--addr-file", addrFile), io.Discard, b.logs)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, err := os.ReadFile(addrFile)
		if err == nil {
			b.addrs = strings.Fields(string(data))
			break
		}
		select {
		case err := <-b.done:
			cancel()
			t.Fatalf("devbroker exited before ready: %v\nlogs:\n%s", err, b.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("devbroker not ready after 30s; logs:\n%s", b.logs.String())
		}
	}
	t.Cleanup(func() {
		b.stop(t)
		if t.Failed() {
			t.Logf("devbroker logs:\n%s", b.logs.String())
		}
	})
	return b
}

// stop shuts the broker down and waits for run to return; calling it again
// is a no-op.
func (b *broker) stop(t *testing.T) {
	t.Helper()
	if b.done == nil {
		return
	}
	b.cancel()
	select {
	case err := <-b.done:
		if err != nil {
			t.Errorf("devbroker run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("devbroker did not stop within 30s")
	}
	b.done = nil
}

func produce(t *testing.T, brokers []string, topic string, values ...string) {
	t.Helper()
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.RoundRobin{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
	}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Key: []byte(v), Value: []byte(v)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

func newGroupReader(brokers []string, topic, group string) *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers:           brokers,
		Topic:             topic,
		GroupID:           group,
		StartOffset:       kafka.FirstOffset,
		SessionTimeout:    6 * time.Second,
		HeartbeatInterval: time.Second,
		RebalanceTimeout:  6 * time.Second,
		MaxWait:           100 * time.Millisecond,
		CommitInterval:    0, // synchronous commits
	})
}

// consumeAndCommit reads n messages through the group reader, committing
// each one, and returns their values.
func consumeAndCommit(t *testing.T, r *kafka.Reader, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var values []string
	for range n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch after %d messages: %v", len(values), err)
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit %s/%d@%d: %v", m.Topic, m.Partition, m.Offset, err)
		}
		values = append(values, string(m.Value))
	}
	return values
}

// committedOffsets returns the group's committed offset per partition.
func committedOffsets(t *testing.T, brokers []string, group, topic string, partitions int) map[int]int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	resp, err := client.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{
		GroupID: group,
		Topics:  map[string][]int{topic: parts},
	})
	if err != nil {
		t.Fatalf("offset fetch: %v", err)
	}
	if resp.Error != nil {
		t.Fatalf("offset fetch: %v", resp.Error)
	}
	got := make(map[int]int64)
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			t.Fatalf("offset fetch partition %d: %v", p.Partition, p.Error)
		}
		got[p.Partition] = p.CommittedOffset
	}
	return got
}

// partitionCount returns the number of partitions of topic, failing the
// test if the topic does not exist.
func partitionCount(t *testing.T, brokers []string, topic string) int {
	t.Helper()
	conn, err := kafka.Dial("tcp", brokers[0])
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatalf("read partitions of %s: %v", topic, err)
	}
	return len(parts)
}

// readPartition reads every record of one partition from the start without
// a consumer group.
func readPartition(t *testing.T, brokers []string, topic string, partition, n int) []string {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: partition, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var values []string
	for range n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %s/%d after %d records: %v", topic, partition, len(values), err)
		}
		values = append(values, string(m.Value))
	}
	return values
}

func numbered(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%02d", prefix, i))
	}
	return out
}

func TestProduceConsumeWithGroupCommits(t *testing.T) {
	b := startBroker(t, "--listen", "127.0.0.1:0", "--topics", "images:3")
	if got := partitionCount(t, b.addrs, "images"); got != 3 {
		t.Fatalf("images has %d partitions, want 3", got)
	}

	want := numbered("img", 0, 12)
	produce(t, b.addrs, "images", want...)

	r := newGroupReader(b.addrs, "images", "workers")
	got := consumeAndCommit(t, r, len(want))
	if err := r.Close(); err != nil {
		t.Fatalf("close reader: %v", err)
	}
	if !sameSet(got, want) {
		t.Fatalf("consumed %v, want %v in any order", got, want)
	}

	// Every record was committed: the committed offsets of the partitions
	// add up to the number of records.
	var total int64
	for p, off := range committedOffsets(t, b.addrs, "workers", "images", 3) {
		if off < 0 {
			t.Errorf("partition %d has no committed offset", p)
		}
		total += off
	}
	if total != int64(len(want)) {
		t.Errorf("committed offsets sum to %d, want %d", total, len(want))
	}
}

func TestRestartKeepsRecordsAndCommittedOffsets(t *testing.T) {
	dataDir := t.TempDir()
	args := []string{"--listen", "127.0.0.1:0", "--data-dir", dataDir, "--topics", "events:1,wide:3"}

	first := startBroker(t, args...)
	records := numbered("ev", 0, 10)
	produce(t, first.addrs, "events", records...)
	r := newGroupReader(first.addrs, "events", "resumer")
	consumed := consumeAndCommit(t, r, 4)
	if err := r.Close(); err != nil {
		t.Fatalf("close reader: %v", err)
	}
	if want := records[:4]; !equal(consumed, want) {
		t.Fatalf("before restart consumed %v, want %v", consumed, want)
	}
	first.stop(t)

	second := startBroker(t, args...)
	if got := partitionCount(t, second.addrs, "wide"); got != 3 {
		t.Errorf("after restart wide has %d partitions, want 3", got)
	}
	if got := committedOffsets(t, second.addrs, "resumer", "events", 1); got[0] != 4 {
		t.Errorf("after restart committed offset = %d, want 4", got[0])
	}
	if got := readPartition(t, second.addrs, "events", 0, len(records)); !equal(got, records) {
		t.Errorf("after restart records = %v, want %v", got, records)
	}

	// The group resumes after its last commit.
	r = newGroupReader(second.addrs, "events", "resumer")
	defer r.Close()
	if got, want := consumeAndCommit(t, r, 6), records[4:]; !equal(got, want) {
		t.Errorf("group resumed with %v, want %v", got, want)
	}

	// New records after the restart continue the same log.
	produce(t, second.addrs, "events", "ev-10")
	if got := consumeAndCommit(t, r, 1); got[0] != "ev-10" {
		t.Errorf("record produced after restart = %q, want ev-10", got[0])
	}
}

func TestSignalStopsCleanly(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			addrFile := filepath.Join(t.TempDir(), "addrs")
			cmd := exec.Command(os.Args[0], "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--addr-file", addrFile)
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			deadline := time.Now().Add(30 * time.Second)
			for {
				if _, err := os.Stat(addrFile); err == nil {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("not ready after 30s; stderr:\n%s", stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-waited:
				if err != nil {
					t.Fatalf("exit after %v: %v; stderr:\n%s", sig, err, stderr.String())
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 30s after %v", sig)
			}
			if !strings.Contains(stderr.String(), "devbroker: stopped") {
				t.Errorf("stderr lacks the stop message:\n%s", stderr.String())
			}
		})
	}
}

func TestParseFlagsRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"wildcard host", []string{"--listen", "0.0.0.0:9092"}},
		{"missing host", []string{"--listen", ":9092"}},
		{"bad port", []string{"--listen", "127.0.0.1:x"}},
		{"zero partitions", []string{"--topics", "a:0"}},
		{"bad partitions", []string{"--topics", "a:two"}},
		{"bad topic name", []string{"--topics", "a/b:1"}},
		{"duplicate topic", []string{"--topics", "a:1,a:2"}},
		{"no brokers", []string{"--brokers", "0"}},
		{"bad log level", []string{"--log-level", "loud"}},
		{"stray argument", []string{"extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseFlags(tt.args, io.Discard); err == nil {
				t.Errorf("parseFlags(%q) succeeded, want error", tt.args)
			}
		})
	}
}

func TestParseTopics(t *testing.T) {
	tests := []struct {
		in   string
		want []topicSpec
	}{
		{"", nil},
		{"a", []topicSpec{{"a", 1}}},
		{"vitseg.images:4, vitseg.results:2,", []topicSpec{{"vitseg.images", 4}, {"vitseg.results", 2}}},
	}
	for _, tt := range tests {
		got, err := parseTopics(tt.in)
		if err != nil {
			t.Errorf("parseTopics(%q): %v", tt.in, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("parseTopics(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRunReportsStartError(t *testing.T) {
	b := startBroker(t, "--listen", "127.0.0.1:0")
	// The port is taken by the first broker.
	err := run(context.Background(), []string{"--listen", b.addrs[0]}, io.Discard, io.Discard)
	if err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("second broker on %s: err = %v, want a listen error", b.addrs[0], err)
	}
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := make(map[string]int)
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
		if count[s] < 0 {
			return false
		}
	}
	return true
}
