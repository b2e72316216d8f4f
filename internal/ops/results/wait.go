package results

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Wait waits until the collector holds expect events or, with expect 0, until their count has not changed for
// 2 s; it fails when ctx ends first. With expect > 0 the count is shown on progress (as "results: N/EXPECT").
func (c *Collector) Wait(ctx context.Context, expect int, progress io.Writer) error {
	bar := newProgress(progress, "results")
	start := time.Now()
	last, lastChange := -1, time.Now()
	for {
		n := c.Count()
		if n != last {
			last, lastChange = n, time.Now()
			if expect > 0 {
				bar.update(n, expect)
			}
		}
		done := (expect > 0 && n >= expect) || (expect == 0 && time.Since(lastChange) > 2*time.Second)
		if done {
			break
		}
		if ctx.Err() != nil {
			bar.done()
			return fmt.Errorf("timed out after %s with %d of %d events", time.Since(start).Round(time.Second), n, expect)
		}
		time.Sleep(200 * time.Millisecond)
	}
	bar.done()
	return nil
}
