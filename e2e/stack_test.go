package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/notification"
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
)

// Names shared by the stack and the serve processes.
const (
	inputTopic   = "vitseg.images"
	resultTopic  = "vitseg.results"
	dlqTopic     = "vitseg.deadletter"
	group        = "vitseg-e2e"
	bucket       = "pets"
	uploads      = "uploads/"
	outputPrefix = "masks/"
	partitions   = 4 // of the input and result topics
)

// stack is a running dev broker and MinIO server whose bucket notifications of pets/uploads/ go to the input
// topic.
type stack struct {
	kafka *testenv.Kafka
	minio *testenv.MinIO
	s3    *minio.Client
}

// stackConfig tunes startStack.
type stackConfig struct {
	minio         []testenv.MinIOOption
	notifyOutputs bool // also notify the creations under masks/: the pipeline's own outputs come back as input
	bigInput      bool // the input topic accepts 8 MiB messages (the broker's default limit is 1 MB)
	dlqMaxBytes   int  // max.message.bytes of the dead-letter topic (0: the broker's default, 1 MB)
}

func startStack(t *testing.T, cfg stackConfig) *stack {
	t.Helper()
	topics := []testenv.Topic{{Name: resultTopic, Partitions: partitions}}
	if !cfg.bigInput {
		topics = append(topics, testenv.Topic{Name: inputTopic, Partitions: partitions})
	}
	if cfg.dlqMaxBytes == 0 {
		topics = append(topics, testenv.Topic{Name: dlqTopic, Partitions: 1})
	}
	k := testenv.StartKafka(t, testenv.WithTopics(topics...))
	if cfg.bigInput {
		createTopic(t, k.Brokers(), inputTopic, partitions, kafka.ConfigEntry{ConfigName: "max.message.bytes", ConfigValue: "8388608"})
		k.CreateTopics(testenv.Topic{Name: inputTopic, Partitions: partitions}) // waits for its metadata
	}
	if cfg.dlqMaxBytes != 0 {
		createTopic(t, k.Brokers(), dlqTopic, 1, kafka.ConfigEntry{ConfigName: "max.message.bytes", ConfigValue: fmt.Sprint(cfg.dlqMaxBytes)})
		k.CreateTopics(testenv.Topic{Name: dlqTopic, Partitions: 1})
	}
	m := testenv.StartMinIO(t, append([]testenv.MinIOOption{testenv.WithKafkaNotify(k.Brokers(), inputTopic)}, cfg.minio...)...)
	m.MakeBucket(bucket)
	prefixes := []string{uploads}
	if cfg.notifyOutputs {
		prefixes = append(prefixes, outputPrefix)
	}
	st := &stack{kafka: k, minio: m, s3: m.Client(t)}
	st.notify(t, prefixes...)
	return st
}

// notify routes the creations under each prefix of the pets bucket to the input topic. MinIO may refuse the
// configuration for a moment after it starts, until its Kafka target is online: that is retried.
func (s *stack) notify(t *testing.T, prefixes ...string) {
	t.Helper()
	arn, err := notification.NewArnFromString(s.minio.NotifyARN())
	if err != nil {
		t.Fatal(err)
	}
	var cfg notification.Configuration
	for _, prefix := range prefixes {
		q := notification.NewConfig(arn)
		q.AddEvents(notification.ObjectCreatedAll)
		q.AddFilterPrefix(prefix)
		cfg.AddQueue(q)
	}
	waitFor(t, 30*time.Second, "MinIO to accept the bucket notification", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = s.s3.SetBucketNotification(ctx, bucket, cfg)
		return err == nil
	})
}

func createTopic(t *testing.T, brokers []string, name string, parts int, configs ...kafka.ConfigEntry) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	resp, err := client.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: name, NumPartitions: parts, ReplicationFactor: 1, ConfigEntries: configs}}})
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	if err := resp.Errors[name]; err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
}

// put stores an object.
func (s *stack) put(t *testing.T, bkt, key string, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.s3.PutObject(ctx, bkt, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		t.Fatalf("put %s/%s: %v", bkt, key, err)
	}
}

// uploadPhotos puts the sample photos, cycling, under uploads/NAME for each name, and returns the keys.
func (s *stack) uploadPhotos(t *testing.T, photos [][]byte, names ...string) []string {
	t.Helper()
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = uploads + n
		s.put(t, bucket, keys[i], photos[i%len(photos)])
	}
	return keys
}

// names returns n object names prefix-000.jpg, prefix-001.jpg, ...
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d.jpg", prefix, i)
	}
	return out
}

// produce writes messages to a topic and waits for every acknowledgement.
func (s *stack) produce(t *testing.T, topic string, msgs ...kafka.Message) {
	t.Helper()
	if err := s.tryProduce(topic, msgs...); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

func (s *stack) tryProduce(topic string, msgs ...kafka.Message) error {
	w := &kafka.Writer{Addr: kafka.TCP(s.kafka.Brokers()...), Topic: topic, BatchTimeout: 5 * time.Millisecond,
		BatchBytes: 16 << 20, RequiredAcks: kafka.RequireAll, Balancer: &kafka.Hash{}}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return w.WriteMessages(ctx, msgs...)
}

// ref is a plain JSON image reference.
func ref(bkt, key string) []byte {
	b, err := json.Marshal(map[string]string{"bucket": bkt, "key": key})
	if err != nil {
		panic(err)
	}
	return b
}

// client returns a Kafka admin client.
func (s *stack) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(s.kafka.Brokers()...), Timeout: 10 * time.Second}
}

// committed returns the group's committed offsets on the input topic (the next offset to read; -1 for none),
// retrying for a while (the first request on a pooled connection fails after a broker restart).
func (s *stack) committed() (map[int]int64, error) {
	return retrying(s.committedOnce)
}

// endOffsets returns the end offsets (the next offset to be written) of a topic's partitions, retrying for a
// while.
func (s *stack) endOffsets(topic string, parts int) (map[int]int64, error) {
	return retrying(func() (map[int]int64, error) { return s.endOffsetsOnce(topic, parts) })
}

// retrying calls f up to 5 times, 200 ms apart, until it succeeds.
func retrying[T any](f func() (T, error)) (T, error) {
	var v T
	var err error
	for range 5 {
		if v, err = f(); err == nil {
			return v, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return v, err
}

func (s *stack) committedOnce() (map[int]int64, error) {
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := s.client().OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{inputTopic: parts}})
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[inputTopic] {
		if p.Error != nil {
			return nil, p.Error
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

func (s *stack) endOffsetsOnce(topic string, parts int) (map[int]int64, error) {
	var reqs []kafka.OffsetRequest
	for p := range parts {
		reqs = append(reqs, kafka.LastOffsetOf(p))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := s.client().ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, p.Error
		}
		out[p.Partition] = p.LastOffset
	}
	return out, nil
}

// allCommitted reports whether the group has committed every message of the input topic.
func (s *stack) allCommitted() bool {
	ends, err := s.endOffsets(inputTopic, partitions)
	if err != nil {
		return false
	}
	done, err := s.committed()
	if err != nil {
		return false
	}
	for p, end := range ends {
		if end > 0 && done[p] != end {
			return false
		}
	}
	return true
}

// collector reads every partition of a topic from the beginning, in the background.
type collector struct {
	topic string
	mu    sync.Mutex
	msgs  []kafka.Message
	next  map[int]int64 // partition -> offset after the last message read
}

func (s *stack) collect(t *testing.T, topic string, parts int) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{topic: topic, next: map[int]int64{}}
	var wg sync.WaitGroup
	for p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: s.kafka.Brokers(), Topic: topic, Partition: p,
			MaxWait: 100 * time.Millisecond, MaxBytes: 16 << 20})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
					continue
				}
				c.mu.Lock()
				c.msgs = append(c.msgs, m)
				c.next[m.Partition] = m.Offset + 1
				c.mu.Unlock()
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return c
}

// snapshot returns the messages read so far.
func (c *collector) snapshot() []kafka.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]kafka.Message(nil), c.msgs...)
}

// caughtUp reports whether the collector has read every message below ends.
func (c *collector) caughtUp(ends map[int]int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, end := range ends {
		if end > 0 && c.next[p] < end {
			return false
		}
	}
	return true
}

// syncTo waits until the collector has read everything written to its topic so far.
func (c *collector) syncTo(t *testing.T, s *stack, parts int) {
	t.Helper()
	var ends map[int]int64
	waitFor(t, 30*time.Second, "the end offsets of "+c.topic, func() bool {
		var err error
		ends, err = s.endOffsets(c.topic, parts)
		return err == nil
	})
	waitFor(t, 30*time.Second, "the collector of "+c.topic+" to catch up", func() bool { return c.caughtUp(ends) })
}
