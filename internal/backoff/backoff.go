// Package backoff is the one retry delay of vitseg: a capped exponential backoff with "equal jitter" (the
// wait is uniform in the upper half of the capped exponential), so retries of many callers spread out while
// each still waits at least half of its ceiling.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Exponential doubles the ceiling of the wait from Min at each retry, up to Max.
type Exponential struct {
	Min, Max time.Duration
}

// Ceiling is the longest wait after failed attempt n (1-based): min(Min·2^(n-1), Max).
func (b Exponential) Ceiling(n int) time.Duration {
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return max(min(d, b.Max), 0)
}

// Delay returns the wait after failed attempt n (1-based): uniform in [Ceiling(n)/2, Ceiling(n)].
func (b Exponential) Delay(n int) time.Duration {
	half := b.Ceiling(n) / 2
	return half + rand.N(half+1)
}
