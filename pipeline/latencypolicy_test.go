package pipeline

import (
	"testing"
	"time"
)

// TestLatencyPolicy feeds the policy what the stages would report (batches timed at 10 ms + 5 ms per image,
// 20 ms for the rest of each image, arrivals at a steady gap) and checks the limits it chooses.
func TestLatencyPolicy(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name      string
		target    time.Duration
		gap       time.Duration // between arrivals; 0: none seen
		learned   bool          // batches were timed
		want      batchLimits
		predicted time.Duration
	}{
		{"no target: the fixed window", 0, 5 * ms, true, batchLimits{size: 8, wait: 20 * ms, max: 8}, 0},
		{"nothing timed yet: no waiting", 200 * ms, 5 * ms, false, batchLimits{size: 1, wait: 0, max: 8}, 0},
		{"light load: one image keeps up", 200 * ms, 100 * ms, true, batchLimits{size: 1, wait: 0, max: 8}, 50 * ms},
		{"moderate load: the smallest batch that keeps up", 200 * ms, 15 * ms, true, batchLimits{size: 2, wait: 18 * ms, max: 8}, 78 * ms},
		{"overload: the largest batch within the target", 200 * ms, 5 * ms, true, batchLimits{size: 8, wait: 42 * ms, max: 8}, 162 * ms},
		{"overload, target out of reach: the most throughput", 61 * ms, 5 * ms, true, batchLimits{size: 8, wait: 20 * ms, max: 8}, 140 * ms},
		{"tight target: the batch that keeps up waits only its slack", 61 * ms, 15 * ms, true, batchLimits{size: 2, wait: ms, max: 8}, 61 * ms},
		{"target out of reach, batch 2 keeps up: batch 2", 50 * ms, 15 * ms, true, batchLimits{size: 2, wait: 18 * ms, max: 8}, 78 * ms},
		{"no arrivals seen: the largest batch within the target", 61 * ms, 0, true, batchLimits{size: 2, wait: ms, max: 8}, 61 * ms},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newLatencyPolicy(tc.target, 8, 20*ms)
			if tc.learned {
				for range 5 {
					for b := 1; b <= 8; b++ {
						p.inferred(b, 10*ms+time.Duration(b)*5*ms)
					}
				}
			}
			for range 50 {
				p.finished(20 * ms)
			}
			if tc.gap > 0 {
				at := time.Unix(0, 0)
				for range 50 {
					p.arrived(at)
					at = at.Add(tc.gap)
				}
			}
			got, predicted := p.limits()
			if got.size != tc.want.size || got.max != tc.want.max || (got.wait-tc.want.wait).Abs() > ms/10 {
				t.Errorf("limits %+v, want %+v", got, tc.want)
			}
			if tc.predicted > 0 && (predicted-tc.predicted).Abs() > ms/10 {
				t.Errorf("predicted p99 %v, want %v", predicted, tc.predicted)
			}
		})
	}
}

// TestWeightedLine: the fit recovers a line, follows a change, and scales the mean with one size seen.
func TestWeightedLine(t *testing.T) {
	var w weightedLine
	for range 3 {
		for b := 1.0; b <= 8; b++ {
			w.add(b, 0.01+0.005*b)
		}
	}
	if got := w.predict(16); got < 0.0899 || got > 0.0901 {
		t.Errorf("predict(16) = %v, want 0.09", got)
	}
	var one weightedLine
	one.add(4, 0.03)
	if got := one.predict(8); got < 0.0599 || got > 0.0601 {
		t.Errorf("one size: predict(8) = %v, want 0.06 (proportional)", got)
	}
}
