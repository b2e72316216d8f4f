package results

import (
	"slices"
	"strings"
	"sync"

	"github.com/vitseg/vitseg/events"
)

// Collector gathers the result and dead-letter events whose source key starts with a prefix (dead letters
// without a source too), as topic readers deliver them. It is safe for concurrent use.
type Collector struct {
	prefix      string
	mu          sync.Mutex
	results     []events.ResultEvent
	deadLetters []events.DeadLetterEvent
}

// Count is the number of events gathered so far.
func (c *Collector) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.results) + len(c.deadLetters)
}

// AddResult keeps a result event of the prefix; others are ignored.
func (c *Collector) AddResult(ev events.ResultEvent) {
	if strings.HasPrefix(ev.Source.Key, c.prefix) {
		c.mu.Lock()
		c.results = append(c.results, ev)
		c.mu.Unlock()
	}
}

// AddDeadLetter keeps a dead-letter event of the prefix, or one without a source; others are ignored.
func (c *Collector) AddDeadLetter(ev events.DeadLetterEvent) {
	if ev.Source == nil || strings.HasPrefix(ev.Source.Key, c.prefix) {
		c.mu.Lock()
		c.deadLetters = append(c.deadLetters, ev)
		c.mu.Unlock()
	}
}

// NewCollector returns a Collector of the events about keys that start with prefix.
func NewCollector(prefix string) *Collector { return &Collector{prefix: prefix} }

// Events returns copies of the events gathered so far, in arrival order.
func (c *Collector) Events() ([]events.ResultEvent, []events.DeadLetterEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.results), slices.Clone(c.deadLetters)
}
