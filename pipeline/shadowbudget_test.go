package pipeline

import (
	"testing"
	"time"
)

// TestShadowBudget: the budget lets a burst through, then only its share of wall-clock time; an unbounded one
// always allows.
func TestShadowBudget(t *testing.T) {
	t0 := time.Unix(0, 0)
	tests := []struct {
		name  string
		share float64
		spend time.Duration // one batch, at t0
		at    time.Duration // asked this long after t0
		want  bool
	}{
		{"unbounded", 0, time.Hour, 0, true},
		{"within the burst", 0.05, 40 * time.Millisecond, 0, true},
		{"burst spent", 0.05, 60 * time.Millisecond, 0, false},
		{"refilled by the share", 0.05, 60 * time.Millisecond, 300 * time.Millisecond, true},
		{"not yet refilled", 0.05, 200 * time.Millisecond, time.Second, false},
		{"refilled after long enough", 0.05, 200 * time.Millisecond, 4 * time.Second, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newShadowBudget(tc.share, t0)
			b.spend(tc.spend, t0)
			if got := b.allow(t0.Add(tc.at)); got != tc.want {
				t.Errorf("allow = %v, want %v (credit %v)", got, tc.want, b.credit)
			}
		})
	}
}
