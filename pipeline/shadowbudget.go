package pipeline

import (
	"sync"
	"time"
)

// shadowBudget bounds the candidate's inference time to a share of wall-clock time: a token bucket of seconds
// that fills at share seconds per second, up to burst, and that each shadow batch empties by its duration.
// While it is empty, offered samples are dropped (and counted), so that shadow evaluation costs the live path
// about share of one core whatever the sampled fraction and the load.
type shadowBudget struct {
	share float64 // seconds of shadow inference per second; 0: no bound
	burst float64 // the most seconds saved up

	mu     sync.Mutex
	credit float64
	last   time.Time
}

// shadowBurst is how many seconds of shadow inference the budget lets through at once after an idle spell.
const shadowBurst = time.Second

func newShadowBudget(share float64, now time.Time) *shadowBudget {
	return &shadowBudget{share: share, burst: shadowBurst.Seconds(), credit: shadowBurst.Seconds() * min(share, 1), last: now}
}

// allow reports whether a sample offered at now may be evaluated: the budget is unbounded, or not spent.
func (b *shadowBudget) allow(now time.Time) bool {
	if b.share <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	return b.credit > 0
}

// spend takes a shadow batch's inference time d, finished at now, off the budget.
func (b *shadowBudget) spend(d time.Duration, now time.Time) {
	if b.share <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	b.credit -= d.Seconds()
}

func (b *shadowBudget) refill(now time.Time) {
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.credit = min(b.credit+elapsed*b.share, b.burst)
		b.last = now
	}
}
