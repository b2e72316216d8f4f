package registry

import "math"

// Histogram bucket bounds, in seconds: the upper bound of bucket i is histogramBase * 2^i for
// i < histogramBuckets-1, and the last bucket is unbounded (0.25 ms to about 2 min, then +Inf).
const (
	histogramBase    = 0.00025
	histogramBuckets = 20
)

// Histogram counts latencies in fixed exponential buckets, so that the histograms of several replicas merge by
// adding their counts (Add) and a quantile of the merged one (Quantile) is as exact as each of them.
type Histogram struct {
	Counts []int64 `json:"counts"`
}

// BucketBound is the upper bound in seconds of bucket i (+Inf for the last).
func BucketBound(i int) float64 {
	if i >= histogramBuckets-1 {
		return math.Inf(1)
	}
	return histogramBase * math.Pow(2, float64(i))
}

// bucketOf is the bucket of a latency of seconds.
func bucketOf(seconds float64) int {
	for i := range histogramBuckets - 1 {
		if seconds <= BucketBound(i) {
			return i
		}
	}
	return histogramBuckets - 1
}

// Observe counts one latency.
func (h *Histogram) Observe(seconds float64) {
	h.AddCount(seconds, 1)
}

// AddCount counts n latencies of seconds.
func (h *Histogram) AddCount(seconds float64, n int64) {
	h.grow()
	h.Counts[bucketOf(seconds)] += n
}

// Add adds the counts of o.
func (h *Histogram) Add(o Histogram) {
	h.grow()
	for i, c := range o.Counts {
		if i < len(h.Counts) {
			h.Counts[i] += c
		}
	}
}

func (h *Histogram) grow() {
	if len(h.Counts) < histogramBuckets {
		h.Counts = append(h.Counts, make([]int64, histogramBuckets-len(h.Counts))...)
	}
}

// Total is the number of latencies counted.
func (h Histogram) Total() int64 {
	var n int64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Quantile returns the upper bound of the bucket holding the q-quantile (0 < q <= 1), an upper estimate within a
// factor of 2; 0 when the histogram is empty.
func (h Histogram) Quantile(q float64) float64 {
	total := h.Total()
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			return BucketBound(i)
		}
	}
	return BucketBound(len(h.Counts) - 1)
}
