package consumer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
)

// These tests run against the real dev broker (and MinIO) processes that
// internal/testsupport/testenv starts on loopback.

// produceRefs writes n plain references to topic, spread round-robin over
// its partitions, and returns their keys in order.
func produceRefs(t *testing.T, brokers []string, topic string, first, n int) []string {
	t.Helper()
	w := &kafka.Writer{
		Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.RoundRobin{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond,
	}
	defer w.Close()
	keys := make([]string, n)
	msgs := make([]kafka.Message, n)
	for i := range n {
		keys[i] = fmt.Sprintf("img/%04d.jpg", first+i)
		msgs[i] = kafka.Message{Key: []byte(keys[i]), Value: fmt.Appendf(nil, `{"bucket":"pets","key":%q,"id":"%d"}`, keys[i], first+i)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("producing references: %v", err)
	}
	return keys
}

func newTestReader(t *testing.T, brokers []string, group, topic string) *Reader {
	t.Helper()
	r, err := NewReader(ReaderConfig{
		Brokers: brokers, GroupID: group, Topic: topic,
		SessionTimeout: 6 * time.Second, MaxWait: 250 * time.Millisecond,
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

type position struct {
	partition int
	offset    int64
}

// fetchN fetches n messages, failing the test if they do not arrive in time.
func fetchN(t *testing.T, r *Reader, n int, timeout time.Duration) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out := make([]kafka.Message, 0, n)
	for len(out) < n {
		m, err := r.Fetch(ctx)
		if err != nil {
			t.Fatalf("fetched %d of %d messages: %v", len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

// expectNoMore fails if r delivers a message within wait.
func expectNoMore(t *testing.T, r *Reader, wait time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if m, err := r.Fetch(ctx); err == nil {
		t.Fatalf("unexpected extra message at partition %d offset %d: %s", m.Partition, m.Offset, m.Value)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Fetch: %v", err)
	}
}

// committedOffsets asks the broker for the group's committed offsets.
func committedOffsets(t *testing.T, brokers []string, group, topic string, partitions int) map[int]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids := make([]int, partitions)
	for i := range ids {
		ids[i] = i
	}
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	resp, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err != nil {
		t.Fatalf("OffsetFetch: %v", err)
	}
	if resp.Error != nil {
		t.Fatalf("OffsetFetch: %v", resp.Error)
	}
	out := make(map[int]int64)
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			t.Fatalf("OffsetFetch partition %d: %v", p.Partition, p.Error)
		}
		if p.CommittedOffset >= 0 {
			out[p.Partition] = p.CommittedOffset
		}
	}
	return out
}

// TestReaderResumesAfterCommittedOffset processes references out of order,
// leaves one message per partition unfinished, commits the watermark, and
// checks that a new Reader in the group gets exactly the messages from the
// first unfinished one on: nothing committed comes back, nothing unfinished
// is lost.
func TestReaderResumesAfterCommittedOffset(t *testing.T) {
	const topic, group, partitions, n = "vitseg.images", "vitseg-resume", 3, 30
	k := testenv.StartKafka(t, testenv.WithTopics(testenv.Topic{Name: topic, Partitions: partitions}))
	brokers := k.Brokers()
	produceRefs(t, brokers, topic, 0, n)

	r1 := newTestReader(t, brokers, group, topic)
	msgs := fetchN(t, r1, n, 60*time.Second)
	w := NewWatermark()
	byPartition := make(map[int][]kafka.Message)
	for _, m := range msgs {
		if w.Track(m.Partition, m.Offset) {
			t.Fatalf("restart reported for a first delivery at %d/%d", m.Partition, m.Offset)
		}
		refs, err := ParseMessage(m.Value)
		if err != nil || len(refs) != 1 || refs[0].Key != string(m.Key) {
			t.Fatalf("ParseMessage(%s) = %+v, %v", m.Value, refs, err)
		}
		byPartition[m.Partition] = append(byPartition[m.Partition], m)
	}
	if len(byPartition) != partitions {
		t.Fatalf("messages landed on %d partitions, want %d", len(byPartition), partitions)
	}
	if lag := r1.Lag(); lag != 0 {
		t.Errorf("Lag after fetching everything = %d", lag)
	}

	// Finish every message except the fourth of each partition, newest first.
	unfinished := make(map[int]int64)
	for p, ms := range byPartition {
		unfinished[p] = ms[3].Offset
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Offset != unfinished[m.Partition] {
			w.Done(m.Partition, m.Offset)
		}
	}
	wantWatermark := make(map[int]int64)
	for p, ms := range byPartition {
		wantWatermark[p] = ms[2].Offset
	}
	if got := w.committable(); !maps.Equal(got, wantWatermark) {
		t.Fatalf("Committable = %v, want %v", got, wantWatermark)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r1.Commit(ctx, w); err != nil {
		t.Fatalf("CommitWatermark: %v", err)
	}
	if len(w.Uncommitted()) != 0 {
		t.Errorf("Uncommitted after commit = %v", w.Uncommitted())
	}
	committed := committedOffsets(t, brokers, group, topic, partitions)
	for p, off := range wantWatermark {
		if committed[p] != off+1 {
			t.Errorf("partition %d: broker has committed offset %d, want %d", p, committed[p], off+1)
		}
	}
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}

	// A new member resumes from the committed offsets.
	r2 := newTestReader(t, brokers, group, topic)
	want := make(map[position]bool)
	for p, ms := range byPartition {
		for _, m := range ms[3:] {
			want[position{p, m.Offset}] = true
		}
	}
	again := fetchN(t, r2, len(want), 60*time.Second)
	for _, m := range again {
		pos := position{m.Partition, m.Offset}
		if !want[pos] {
			t.Errorf("redelivered %v, which was committed or already redelivered", pos)
		}
		delete(want, pos)
	}
	expectNoMore(t, r2, 2*time.Second)

	// New messages arrive after the redelivered ones, and a full commit
	// leaves nothing behind.
	produceRefs(t, brokers, topic, n, 3)
	fresh := fetchN(t, r2, 3, 30*time.Second)
	if err := commitFetched(ctx, r2, append(again, fresh...)...); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	committed = committedOffsets(t, brokers, group, topic, partitions)
	var total int64
	for _, off := range committed {
		total += off
	}
	if total != n+3 {
		t.Errorf("committed offsets %v sum to %d, want %d (every message)", committed, total, n+3)
	}
}

// groupMembers returns the partitions of topic assigned to each member of
// group, by member ID.
func groupMembers(ctx context.Context, brokers []string, group, topic string) (map[string][]int, error) {
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}
	resp, err := c.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		return nil, err
	}
	if len(resp.Groups) != 1 || resp.Groups[0].Error != nil {
		return nil, fmt.Errorf("describe group: %+v", resp.Groups)
	}
	if state := resp.Groups[0].GroupState; state != "Stable" {
		return nil, fmt.Errorf("group is %s", state)
	}
	out := make(map[string][]int)
	for _, m := range resp.Groups[0].Members {
		for _, a := range m.MemberAssignments.Topics {
			if a.Topic == topic {
				out[m.MemberID] = append(out[m.MemberID], a.Partitions...)
			}
		}
	}
	return out, nil
}

// TestReadersSplitPartitions runs two Readers in one group: once the group
// is stable each owns half of the partitions, and together they consume
// every message exactly once.
func TestReadersSplitPartitions(t *testing.T) {
	const topic, group, partitions, n = "vitseg.images", "vitseg-split", 4, 40
	k := testenv.StartKafka(t, testenv.WithTopics(testenv.Topic{Name: topic, Partitions: partitions}))
	brokers := k.Brokers()
	readers := []*Reader{newTestReader(t, brokers, group, topic), newTestReader(t, brokers, group, topic)}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	type got struct {
		reader int
		msg    kafka.Message
	}
	results := make(chan got, n)
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Go(func() {
			for {
				m, err := r.Fetch(ctx)
				if err != nil {
					return
				}
				results <- got{i, m}
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()

	// Wait until both members hold partitions.
	var assignment map[string][]int
	for {
		a, err := groupMembers(ctx, brokers, group, topic)
		if err == nil && len(a) == 2 {
			ok := true
			for _, ps := range a {
				ok = ok && len(ps) == partitions/2
			}
			if ok {
				assignment = a
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("group never settled on two members with %d partitions each (last: %v, %v)", partitions/2, a, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("assignment: %v", assignment)

	keys := produceRefs(t, brokers, topic, 0, n)
	owner := make(map[int]int) // partition -> reader
	seen := make(map[string]bool)
	for range n {
		select {
		case g := <-results:
			if prev, ok := owner[g.msg.Partition]; ok && prev != g.reader {
				t.Errorf("partition %d consumed by readers %d and %d", g.msg.Partition, prev, g.reader)
			}
			owner[g.msg.Partition] = g.reader
			if seen[string(g.msg.Key)] {
				t.Errorf("message %s delivered twice", g.msg.Key)
			}
			seen[string(g.msg.Key)] = true
			if err := commitFetched(ctx, readers[g.reader], g.msg); err != nil {
				t.Errorf("commit: %v", err)
			}
		case <-ctx.Done():
			t.Fatalf("received %d of %d messages", len(seen), n)
		}
	}
	if len(seen) != len(keys) {
		t.Errorf("received %d distinct messages, want %d", len(seen), len(keys))
	}
	perReader := make(map[int][]int)
	for p, r := range owner {
		perReader[r] = append(perReader[r], p)
	}
	if len(perReader) != 2 {
		t.Fatalf("partitions by reader: %v, want both readers busy", perReader)
	}
	for r, ps := range perReader {
		slices.Sort(ps)
		if len(ps) != partitions/2 {
			t.Errorf("reader %d consumed partitions %v, want %d of them", r, ps, partitions/2)
		}
	}
}

// TestMinIONotificationsThroughKafka uploads objects to a real MinIO whose
// bucket notifications go to the dev broker, and parses what the Reader
// receives: the real MinIO record format, URL-decoded keys, and the filter
// dropping the pipeline's own outputs.
func TestMinIONotificationsThroughKafka(t *testing.T) {
	const topic, group = "vitseg.images", "vitseg-minio"
	k := testenv.StartKafka(t, testenv.WithTopics(testenv.Topic{Name: topic, Partitions: 2}))
	m := testenv.StartMinIO(t, testenv.WithKafkaNotify(k.Brokers(), topic))
	m.MakeBucket("pets")
	m.NotifyObjectCreated("pets", "")
	client := m.Client(t)

	allow, err := ParseAllowList("pets")
	if err != nil {
		t.Fatal(err)
	}
	filter, err := NewFilter(allow, "", "masks/")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	objects := map[string]string{ // key -> content
		fixtureKey:                    "first",
		"plain.jpg":                   "second image",
		"masks/photos/Bengal cat.png": "a mask the pipeline wrote",
	}
	for _, key := range slices.Sorted(maps.Keys(objects)) {
		body := objects[key]
		if _, err := client.PutObject(ctx, "pets", key, bytes.NewReader([]byte(body)), int64(len(body)), minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}

	r := newTestReader(t, k.Brokers(), group, topic)
	processed := make(map[string]ImageRef)
	ignored := 0
	for _, msg := range fetchN(t, r, len(objects), 60*time.Second) {
		refs, err := ParseMessage(msg.Value)
		if err != nil {
			t.Fatalf("ParseMessage(%s): %v", msg.Value, err)
		}
		for _, ref := range refs {
			if string(msg.Key) != ref.Bucket+"/"+ref.Key {
				t.Errorf("message key %q, ref %s", msg.Key, ref)
			}
			if err := filter.Check(ref); err != nil {
				if !errors.Is(err, ErrIgnored) || ref.Key != "masks/photos/Bengal cat.png" {
					t.Errorf("Check(%s) = %v", ref, err)
				}
				ignored++
				continue
			}
			processed[ref.Key] = ref
		}
		if err := commitFetched(ctx, r, msg); err != nil {
			t.Fatal(err)
		}
	}
	if ignored != 1 || len(processed) != 2 {
		t.Fatalf("processed %v, ignored %d", slices.Collect(maps.Keys(processed)), ignored)
	}
	for key, ref := range processed {
		info, err := client.StatObject(ctx, "pets", key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatalf("stat %q (decoded from the notification): %v", key, err)
		}
		if ref.ETag != info.ETag || ref.Size != info.Size || ref.Bucket != "pets" || ref.EventName != "s3:ObjectCreated:Put" || ref.ID == "" {
			t.Errorf("ref %+v, object etag %s size %d", ref, info.ETag, info.Size)
		}
	}
}

// TestRebalanceRedeliversUnfinished lets one Reader fetch everything and
// finish only part of it, then adds a second Reader to the group. The first
// Reader gets its unfinished messages again from the committed offset (the
// Watermark reports the restart), the second takes over the other
// partition from its committed offset, and once both finish and commit,
// every message was processed and the group's offsets are at the end.
func TestRebalanceRedeliversUnfinished(t *testing.T) {
	const topic, group, partitions, n = "vitseg.images", "vitseg-rebalance", 2, 20
	k := testenv.StartKafka(t, testenv.WithTopics(testenv.Topic{Name: topic, Partitions: partitions}))
	brokers := k.Brokers()
	produceRefs(t, brokers, topic, 0, n)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	a := newTestReader(t, brokers, group, topic)
	wa := NewWatermark()
	processed := make(map[position]bool)
	for _, m := range fetchN(t, a, n, 60*time.Second) {
		wa.Track(m.Partition, m.Offset)
		if m.Offset < 5 {
			wa.Done(m.Partition, m.Offset)
			processed[position{m.Partition, m.Offset}] = true
		}
	}
	if err := a.Commit(ctx, wa); err != nil {
		t.Fatal(err)
	}

	// The second member joins; it consumes its partitions in the background.
	b := newTestReader(t, brokers, group, topic)
	bGot := make(chan kafka.Message, n)
	bCtx, stopB := context.WithCancel(ctx)
	var bWG sync.WaitGroup
	bWG.Go(func() {
		for {
			m, err := b.Fetch(bCtx)
			if err != nil {
				return
			}
			bGot <- m
		}
	})
	defer func() { stopB(); bWG.Wait() }()

	// The first member is redelivered what it had not committed on the
	// partition it keeps.
	redelivered := fetchN(t, a, 5, 60*time.Second)
	kept := redelivered[0].Partition
	for i, m := range redelivered {
		if m.Partition != kept || m.Offset != int64(5+i) {
			t.Fatalf("redelivery %d is %d/%d, want %d/%d", i, m.Partition, m.Offset, kept, 5+i)
		}
		if restarted := wa.Track(m.Partition, m.Offset); restarted != (i == 0) {
			t.Errorf("Track(%d, %d) restarted = %t", m.Partition, m.Offset, restarted)
		}
	}
	// The partition it lost is gone from it: forget it, as a caller that
	// learns of the revocation does.
	lost := 1 - kept
	wa.revoke(lost)
	for _, m := range redelivered {
		wa.Done(m.Partition, m.Offset)
		processed[position{m.Partition, m.Offset}] = true
	}
	if got, _ := wa.committableFor(kept); got != 9 {
		t.Errorf("watermark of kept partition = %d, want 9", got)
	}
	if err := a.Commit(ctx, wa); err != nil {
		t.Fatalf("commit after rebalance: %v", err)
	}

	// The second member starts the lost partition at the committed offset.
	wb := NewWatermark()
	for i := range 5 {
		select {
		case m := <-bGot:
			if m.Partition != lost || m.Offset != int64(5+i) {
				t.Fatalf("second reader got %d/%d, want %d/%d", m.Partition, m.Offset, lost, 5+i)
			}
			wb.Track(m.Partition, m.Offset)
			wb.Done(m.Partition, m.Offset)
			processed[position{m.Partition, m.Offset}] = true
		case <-ctx.Done():
			t.Fatalf("second reader got %d of 5 messages", i)
		}
	}
	if err := b.Commit(ctx, wb); err != nil {
		t.Fatal(err)
	}
	if len(processed) != n {
		t.Errorf("processed %d distinct messages, want %d", len(processed), n)
	}
	committed := committedOffsets(t, brokers, group, topic, partitions)
	if committed[0] != n/partitions || committed[1] != n/partitions {
		t.Errorf("committed offsets %v, want %d on each partition", committed, n/partitions)
	}
}

// commitFetched commits msgs, fetched from r in this order, through a Watermark, as a caller that finished
// them all does.
func commitFetched(ctx context.Context, r *Reader, msgs ...kafka.Message) error {
	w := NewWatermark()
	for _, m := range msgs {
		w.Track(m.Partition, m.Offset)
	}
	for _, m := range msgs {
		w.Done(m.Partition, m.Offset)
	}
	return r.Commit(ctx, w)
}
