package pipeline

import (
	"context"
	"time"
)

// batchItems collects items from in into batches of at most maxSize, sending a batch as soon as it is full or
// maxWait after its first item arrived (Triton's dynamic batching). It flushes what it holds when in is closed
// and then closes out. It returns early only when ctx is cancelled.
func batchItems[T any](ctx context.Context, in <-chan T, out chan<- []T, maxSize int, maxWait time.Duration) {
	defer close(out)
	var batch []T
	timer := time.NewTimer(maxWait)
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
			batch = append(batch, item)
			if len(batch) == 1 {
				timer.Reset(maxWait)
			}
			if len(batch) >= maxSize && !send() {
				return
			}
		case <-timeout:
			if !send() {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}
