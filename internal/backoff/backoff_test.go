package backoff_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/vitseg/vitseg/internal/backoff"
)

func TestDelay(t *testing.T) {
	tests := []struct {
		name   string
		b      backoff.Exponential
		tries  int
		maxCap time.Duration
	}{
		{"doubling to the cap", backoff.Exponential{Min: 100 * time.Millisecond, Max: time.Second}, 10, time.Second},
		{"far past the cap without overflow", backoff.Exponential{Min: 10 * time.Millisecond, Max: 200 * time.Millisecond}, 100, 200 * time.Millisecond},
		{"min equals max", backoff.Exponential{Min: time.Millisecond, Max: time.Millisecond}, 5, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for n := 1; n <= tc.tries; n++ {
				ceiling := min(tc.b.Min<<min(n-1, 30), tc.maxCap)
				if got := tc.b.Ceiling(n); got != ceiling {
					t.Fatalf("Ceiling(%d) = %v, want %v", n, got, ceiling)
				}
				for range 200 {
					if d := tc.b.Delay(n); d < ceiling/2 || d > ceiling {
						t.Fatalf("Delay(%d) = %v, want within [%v, %v]", n, d, ceiling/2, ceiling)
					}
				}
			}
		})
	}
}

func TestDelayHasJitter(t *testing.T) {
	b := backoff.Exponential{Min: 100 * time.Millisecond, Max: time.Second}
	seen := make(map[time.Duration]bool)
	for range 50 {
		seen[b.Delay(3)] = true
	}
	if len(seen) < 10 {
		t.Errorf("Delay has no jitter: %d distinct values in 50", len(seen))
	}
}

func ExampleExponential() {
	b := backoff.Exponential{Min: 50 * time.Millisecond, Max: 2 * time.Second}
	for n := 1; n <= 7; n++ {
		fmt.Printf("after attempt %d: wait %v to %v\n", n, b.Ceiling(n)/2, b.Ceiling(n))
	}
	// Output:
	// after attempt 1: wait 25ms to 50ms
	// after attempt 2: wait 50ms to 100ms
	// after attempt 3: wait 100ms to 200ms
	// after attempt 4: wait 200ms to 400ms
	// after attempt 5: wait 400ms to 800ms
	// after attempt 6: wait 800ms to 1.6s
	// after attempt 7: wait 1s to 2s
}
