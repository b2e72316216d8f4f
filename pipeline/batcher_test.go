package pipeline

import (
	"context"
	"testing"
	"time"
)

func TestBatchItems(t *testing.T) {
	tests := []struct {
		name    string
		items   int
		maxSize int
		gap     time.Duration // pause after sending all items, before closing the input
		want    []int         // batch sizes
	}{
		{"full batches then the remainder on close", 10, 4, 0, []int{4, 4, 2}},
		{"partial batch flushed by max wait", 3, 8, 150 * time.Millisecond, []int{3}},
		{"exact multiple", 8, 4, 0, []int{4, 4}},
		{"batch of one", 2, 1, 0, []int{1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := make(chan int)
			out := make(chan []int, 16)
			go batchItems(context.Background(), in, out, fixedLimits(tc.maxSize, 50*time.Millisecond), nil)
			for i := range tc.items {
				in <- i
			}
			if tc.gap > 0 {
				select {
				case b := <-out:
					if len(b) != tc.want[0] {
						t.Fatalf("first batch %v, want %d items", b, tc.want[0])
					}
					tc.want = tc.want[1:]
				case <-time.After(tc.gap):
					t.Fatal("partial batch not flushed within max wait")
				}
			}
			close(in)
			var got []int
			next := 0
			for b := range out {
				got = append(got, len(b))
				for _, v := range b {
					if v != next && tc.gap == 0 {
						t.Errorf("item %d out of order, want %d", v, next)
					}
					next++
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("batch sizes %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("batch sizes %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestBatchItemsTakesQueuedItems: a batch that may go at one item (no wait) still takes the items already
// queued behind it, up to its max, so a burst is not served one by one.
func TestBatchItemsTakesQueuedItems(t *testing.T) {
	in := make(chan int, 10)
	for i := range 6 {
		in <- i
	}
	close(in)
	out := make(chan []int, 10)
	batchItems(context.Background(), in, out, func() batchLimits { return batchLimits{size: 1, max: 4} }, nil)
	var sizes []int
	for b := range out {
		sizes = append(sizes, len(b))
	}
	if len(sizes) != 2 || sizes[0] != 4 || sizes[1] != 2 {
		t.Errorf("batch sizes %v, want [4 2]", sizes)
	}
}
