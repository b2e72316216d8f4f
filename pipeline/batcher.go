package pipeline

import (
	"context"
	"time"
)

// batchItems collects items from in into batches, sending a batch as soon as it holds its size or its wait has
// passed since its first item arrived (Triton's dynamic batching); items already queued then join it, up to its
// max. The limits of each batch are asked of limits when its first item arrives, so that a policy can adapt them
// (latencyPolicy); arrived, when not nil, is told of every item. It flushes what it holds when in is closed and then closes out. It returns early only when ctx
// is cancelled.
func batchItems[T any](ctx context.Context, in <-chan T, out chan<- []T, limits func() batchLimits, arrived func(time.Time)) {
	defer close(out)
	var batch []T
	var lim batchLimits
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	send := func() bool {
		timer.Stop()
		if len(batch) == 0 {
			return true
		}
		select {
		case out <- batch:
			batch = nil
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		var timeout <-chan time.Time
		if len(batch) > 0 {
			timeout = timer.C
		}
		select {
		case item, ok := <-in:
			if !ok {
				send()
				return
			}
			if arrived != nil {
				arrived(time.Now())
			}
			batch = append(batch, item)
			if len(batch) == 1 {
				lim = limits()
				timer.Reset(lim.wait)
			}
			if len(batch) >= max(lim.size, 1) {
				batch = drain(in, batch, max(lim.max, lim.size), arrived)
				if !send() {
					return
				}
			}
		case <-timeout:
			batch = drain(in, batch, max(lim.max, lim.size), arrived)
			if !send() {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// drain adds the items in already holds to batch, without waiting, up to most items in all.
func drain[T any](in <-chan T, batch []T, most int, arrived func(time.Time)) []T {
	for len(batch) < most {
		select {
		case item, ok := <-in:
			if !ok {
				return batch // the loop sees the closed channel next
			}
			if arrived != nil {
				arrived(time.Now())
			}
			batch = append(batch, item)
		default:
			return batch
		}
	}
	return batch
}

// fixedLimits are the limits of the fixed window: size items, wait after the first.
func fixedLimits(size int, wait time.Duration) func() batchLimits {
	return func() batchLimits { return batchLimits{size: size, wait: wait, max: size} }
}
