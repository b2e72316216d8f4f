package pipeline

import (
	"sync"

	"github.com/vitseg/vitseg/model/registry"
)

// liveTally counts the live path's figures per serving version between two flushes of the lifecycle
// (lifecycle.go): inference (infer.go), results (write.go) and dead letters (deadletter.go). It exists only
// while shadow evaluation is on; a nil *liveTally counts nothing.
type liveTally struct {
	mu     sync.Mutex
	counts map[string]*registry.LiveStats
}

func newLiveTally() *liveTally {
	return &liveTally{counts: map[string]*registry.LiveStats{}}
}

// add applies f to version's figures.
func (t *liveTally) add(version string, f func(*registry.LiveStats)) {
	if t == nil || version == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.counts[version]
	if !ok {
		s = &registry.LiveStats{}
		t.counts[version] = s
	}
	f(s)
}

// inferred counts a batch of n images inferred by version in seconds (failed: its inference failed).
func (t *liveTally) inferred(version string, n int, seconds float64, failed bool) {
	t.add(version, func(s *registry.LiveStats) {
		s.Images += int64(n)
		if failed {
			s.InferErrors += int64(n)
			return
		}
		s.Latency.AddCount(seconds/float64(n), int64(n))
	})
}

// take returns the figures counted since the last take, by version, and starts afresh.
func (t *liveTally) take() map[string]registry.LiveStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]registry.LiveStats, len(t.counts))
	for v, s := range t.counts {
		out[v] = *s
	}
	clear(t.counts)
	return out
}
