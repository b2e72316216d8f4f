package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// runProduce writes one plain image reference per key to the input topic, as another producer than MinIO's
// notifications would (a reference to a missing object, say).
func runProduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("produce", stderr)
	brokers := fs.String("brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
	topic := fs.String("topic", "vitseg.images", "input topic")
	bucket := fs.String("bucket", "pets", "bucket of the referenced objects")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"produce: give at least one object key"}
	}
	msgs := make([]kafka.Message, 0, fs.NArg())
	for i, key := range fs.Args() {
		v, err := json.Marshal(map[string]string{"bucket": *bucket, "key": key, "id": fmt.Sprintf("obscheck-%d-%d", time.Now().UnixNano(), i)})
		if err != nil {
			return fmt.Errorf("encode reference: %w", err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(key), Value: v})
	}
	w := &kafka.Writer{Addr: kafka.TCP(strings.Split(*brokers, ",")...), Topic: *topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		w.Close() //nolint:errcheck // The write error is the one to report.
		return fmt.Errorf("produce to %s: %w", *topic, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("close writer: %w", err)
	}
	fmt.Fprintf(stdout, "obscheck: wrote %d references to %s\n", len(msgs), *topic)
	return nil
}
