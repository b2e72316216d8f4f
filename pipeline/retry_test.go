package pipeline

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/backoff"
)

// TestRetryBudget: attempts are charged only while the same operation succeeds for others and the dependency is
// healthy; an outage (nothing succeeds, or the probe fails) is waited out however long it lasts.
func TestRetryBudget(t *testing.T) {
	transient := errors.New("503 SlowDownRead")
	tests := []struct {
		name        string
		othersOK    bool // another item's call succeeds between this item's attempts
		healthy     bool
		outageTries int // attempts after which the call succeeds (0: never)
		wantClass   events.ErrorClass
		wantCalls   int
	}{
		{name: "keeps failing while others succeed", othersOK: true, healthy: true, wantClass: events.ClassRetriesExhausted, wantCalls: 3},
		{name: "outage: nothing else succeeds", othersOK: false, healthy: true, outageTries: 50, wantCalls: 51},
		{name: "others succeed but the probe fails", othersOK: true, healthy: false, outageTries: 50, wantCalls: 51},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var served atomic.Uint64
			calls := 0
			r := retryPolicy{op: "s3_get", backoff: backoff.Exponential{Min: time.Microsecond, Max: time.Microsecond},
				transient: isTransient, budget: 3, served: &served, healthy: func() bool { return tc.healthy }}
			err := r.do(context.Background(), func() error {
				calls++
				if tc.outageTries > 0 && calls > tc.outageTries {
					return nil
				}
				if tc.othersOK {
					served.Add(1)
				}
				return transient
			})
			var pe errPermanent
			switch {
			case tc.wantClass == "" && err != nil:
				t.Errorf("err %v, want success after the outage", err)
			case tc.wantClass != "" && (!errors.As(err, &pe) || pe.class != tc.wantClass || !errors.Is(err, transient)):
				t.Errorf("err %v, want class %s wrapping the last error", err, tc.wantClass)
			}
			if calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls, tc.wantCalls)
			}
		})
	}
}

func TestRetryStopsAtPermanentAndContext(t *testing.T) {
	var served atomic.Uint64
	r := retryPolicy{op: "s3_put", backoff: backoff.Exponential{Min: time.Millisecond, Max: time.Millisecond}, transient: isTransient,
		budget: -1, served: &served}
	perm := errPermanent{events.ClassInternal, errors.New("403")}
	calls := 0
	if err := r.do(context.Background(), func() error { calls++; return perm }); !errors.Is(err, perm) || calls != 1 {
		t.Errorf("permanent: %v after %d calls", err, calls)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := r.do(ctx, func() error { served.Add(1); return errors.New("transient") })
	if err == nil || ctx.Err() == nil {
		t.Errorf("unbounded budget: returned %v before the context ended", err)
	}
}
