package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// startTimeout bounds how long a service may take to become ready.
const startTimeout = 60 * time.Second

// Topic is a Kafka topic to create.
type Topic struct {
	Name       string
	Partitions int // values below 1 mean 1
}

func (t Topic) partitions() int { return max(t.Partitions, 1) }

// KafkaOption configures StartKafka.
type KafkaOption func(*kafkaConfig)

type kafkaConfig struct {
	topics []Topic
}

// WithTopics creates the topics when the broker starts.
func WithTopics(topics ...Topic) KafkaOption {
	return func(c *kafkaConfig) { c.topics = append(c.topics, topics...) }
}

// Kafka is a running single-broker Kafka-protocol cluster (the devbroker)
// with a data directory that survives Restart. Its methods fail the test
// they were started by on error, and must be called from that test's
// goroutine.
type Kafka struct {
	tb       testing.TB
	proc     *process
	addrFile string
	brokers  []string
}

// StartKafka starts a devbroker on a free loopback port with a temporary
// data directory, waits until it serves metadata for the requested topics
// and stops it when the test ends.
func StartKafka(tb testing.TB, opts ...KafkaOption) *Kafka {
	tb.Helper()
	var cfg kafkaConfig
	for _, o := range opts {
		o(&cfg)
	}
	bin := devbrokerBinary(tb)
	dir := tb.TempDir()
	k := &Kafka{tb: tb, addrFile: filepath.Join(dir, "addrs")}
	args := []string{
		"--listen", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "data"),
		"--addr-file", k.addrFile,
	}
	if len(cfg.topics) > 0 {
		specs := make([]string, len(cfg.topics))
		for i, t := range cfg.topics {
			specs[i] = t.Name + ":" + strconv.Itoa(t.partitions())
		}
		args = append(args, "--topics", strings.Join(specs, ","))
	}
	k.proc = &process{
		name:    "devbroker",
		path:    bin,
		args:    args,
		env:     os.Environ(),
		logPath: filepath.Join(dir, "devbroker.log"),
	}
	k.proc.registerCleanup(tb)
	if err := k.start(); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	// Restarts must come back on the same address, which the first start
	// picked.
	k.proc.args[1] = k.brokers[0]
	if err := k.waitForTopics(cfg.topics); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return k
}

// Brokers returns the broker addresses (host:port).
func (k *Kafka) Brokers() []string { return append([]string(nil), k.brokers...) }

// Stop stops the broker; its data directory is kept for Restart. Stopping
// a stopped broker does nothing.
func (k *Kafka) Stop() {
	k.tb.Helper()
	if err := k.proc.stop(); err != nil {
		k.tb.Fatalf("testenv: %v", err)
	}
}

// Restart stops the broker if it runs and starts it again on the same
// address with the same data directory: topics, records and committed
// consumer group offsets are kept.
func (k *Kafka) Restart() {
	k.tb.Helper()
	k.Stop()
	if err := k.start(); err != nil {
		k.tb.Fatalf("testenv: restart: %v", err)
	}
}

// CreateTopics creates topics that do not exist yet and waits until the
// broker serves their metadata.
func (k *Kafka) CreateTopics(topics ...Topic) {
	k.tb.Helper()
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{
			Topic:             t.Name,
			NumPartitions:     t.partitions(),
			ReplicationFactor: 1,
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := k.client().CreateTopics(ctx, req)
	if err != nil {
		k.tb.Fatalf("testenv: create topics: %v", err)
	}
	for name, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			k.tb.Fatalf("testenv: create topic %s: %v", name, err)
		}
	}
	if err := k.waitForTopics(topics); err != nil {
		k.tb.Fatalf("testenv: %v", err)
	}
}

func (k *Kafka) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(k.brokers...), Timeout: 10 * time.Second}
}

// start runs the broker and waits for its address file and a metadata
// response.
func (k *Kafka) start() error {
	if err := os.Remove(k.addrFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := k.proc.start(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	err := k.proc.waitUntil(ctx, func(context.Context) error {
		data, err := os.ReadFile(k.addrFile)
		if err != nil {
			return err
		}
		k.brokers = strings.Fields(string(data))
		return nil
	})
	if err != nil {
		return err
	}
	return k.proc.waitUntil(ctx, func(ctx context.Context) error {
		_, err := k.client().Metadata(ctx, &kafka.MetadataRequest{})
		return err
	})
}

// waitForTopics waits until the metadata of every topic has all its
// partitions.
func (k *Kafka) waitForTopics(topics []Topic) error {
	if len(topics) == 0 {
		return nil
	}
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.Name
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return k.proc.waitUntil(ctx, func(ctx context.Context) error {
		resp, err := k.client().Metadata(ctx, &kafka.MetadataRequest{Topics: names})
		if err != nil {
			return err
		}
		found := make(map[string]kafka.Topic)
		for _, t := range resp.Topics {
			found[t.Name] = t
		}
		for _, t := range topics {
			got, ok := found[t.Name]
			switch {
			case !ok:
				return fmt.Errorf("topic %s missing from metadata", t.Name)
			case got.Error != nil:
				return fmt.Errorf("topic %s: %w", t.Name, got.Error)
			case len(got.Partitions) < t.partitions():
				return fmt.Errorf("topic %s has %d partitions, want %d", t.Name, len(got.Partitions), t.partitions())
			}
		}
		return nil
	})
}
