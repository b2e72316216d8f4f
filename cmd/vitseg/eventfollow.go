package main

import (
	"strings"
	"sync"

	"github.com/vitseg/vitseg/events"
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

// addResult keeps a result event of the prefix; others are ignored.
func (c *eventCollector) addResult(ev events.ResultEvent) {
	if strings.HasPrefix(ev.Source.Key, c.prefix) {
		c.mu.Lock()
		c.results = append(c.results, ev)
		c.mu.Unlock()
	}
}

// addDeadLetter keeps a dead-letter event of the prefix, or one without a source; others are ignored.
func (c *eventCollector) addDeadLetter(ev events.DeadLetterEvent) {
	if ev.Source == nil || strings.HasPrefix(ev.Source.Key, c.prefix) {
		c.mu.Lock()
		c.deadLetters = append(c.deadLetters, ev)
		c.mu.Unlock()
	}
}
