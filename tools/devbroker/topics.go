package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ensureTopics creates the topics that do not exist yet through the broker's
// own CreateTopics API, so that a restarted broker with a data directory keeps
// its existing topics untouched.
func ensureTopics(ctx context.Context, brokers []string, topics []topicSpec, logw io.Writer) error {
	if len(topics) == 0 {
		return nil
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	defer client.Close()

	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10_000
	for _, t := range topics {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic = t.name
		rt.NumPartitions = t.partitions
		rt.ReplicationFactor = -1 // broker default
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, client)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for _, rt := range resp.Topics {
		err := kerr.ErrorForCode(rt.ErrorCode)
		switch {
		case err == nil:
			fmt.Fprintf(logw, "devbroker: created topic %s (%d partitions)\n", rt.Topic, rt.NumPartitions)
		case errors.Is(err, kerr.TopicAlreadyExists):
			fmt.Fprintf(logw, "devbroker: topic %s exists, kept\n", rt.Topic)
		default:
			return fmt.Errorf("create topic %s: %w", rt.Topic, err)
		}
	}
	return nil
}
