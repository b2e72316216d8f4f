package pipeline

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff is a capped exponential backoff with full jitter.
type backoff struct {
	min, max time.Duration
}

// delay returns the wait before retry attempt n (0-based).
func (b backoff) delay(n int) time.Duration {
	d := b.min << min(n, 20)
	if d <= 0 || d > b.max {
		d = b.max
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// retry calls fn until it succeeds, returns a permanent error (isTransient false), or ctx ends. onRetry is called
// before each wait with the attempt number and the error.
func retry(ctx context.Context, b backoff, isTransient func(error) bool, onRetry func(int, error), fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !isTransient(err) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		if onRetry != nil {
			onRetry(attempt, err)
		}
		t := time.NewTimer(b.delay(attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}
