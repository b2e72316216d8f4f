package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/topicread"
)

// eventCollector gathers the result and dead-letter events whose source key starts with prefix, as the topic
// readers deliver them. Hold mu to read results and deadLetters.
type eventCollector struct {
	prefix      string
	mu          sync.Mutex
	results     []events.ResultEvent
	deadLetters []events.DeadLetterEvent
}

// count is the number of events gathered so far.
func (c *eventCollector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.results) + len(c.deadLetters)
}

// addResult keeps a result event of the prefix; anything else is ignored.
func (c *eventCollector) addResult(b []byte) {
	var ev events.ResultEvent
	if json.Unmarshal(b, &ev) == nil && strings.HasPrefix(ev.Source.Key, c.prefix) {
		c.mu.Lock()
		c.results = append(c.results, ev)
		c.mu.Unlock()
	}
}

// addDeadLetter keeps a dead-letter event of the prefix, or one without a source; anything else is ignored.
func (c *eventCollector) addDeadLetter(b []byte) {
	var ev events.DeadLetterEvent
	if json.Unmarshal(b, &ev) == nil && (ev.Source == nil || strings.HasPrefix(ev.Source.Key, c.prefix)) {
		c.mu.Lock()
		c.deadLetters = append(c.deadLetters, ev)
		c.mu.Unlock()
	}
}

// followTopic reads every partition of topic from the start in the background, passing each message's value to
// handle, until ctx ends.
func followTopic(ctx context.Context, brokers []string, dialer *kafka.Dialer, topic string, handle func([]byte)) error {
	parts, err := topicread.Source{Brokers: brokers, Dialer: dialer}.Partitions(ctx, topic)
	if err != nil {
		return err
	}
	for _, p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p,
			Dialer: dialer, MaxWait: 200 * time.Millisecond})
		go func() {
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				handle(m.Value)
			}
		}()
	}
	return nil
}
