package pipeline

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/backoff"
)

// operations counts the successful calls of each external operation the pipeline retries, so that an item
// that keeps failing can tell whether the same operation works for other items meanwhile.
type operations struct {
	s3Get, s3Put, produceResult, produceDeadLetter atomic.Uint64
}

// retryPolicy is the one retry owner of one external operation: the clients under it make a single attempt
// (minio-go MaxRetries 1, see cmd/vitseg serve; producer.Writer makes one try per call).
type retryPolicy struct {
	op        string // for metrics, logs and dead-letter reasons
	backoff   backoff.Exponential
	transient func(error) bool
	// budget bounds the attempts of one item that fail while the operation succeeds for other items and the
	// dependency's readiness probe passes; past it the item fails with class retries_exhausted. Attempts
	// during an outage (nothing succeeds) are never charged, so an outage is waited out. <= 0: no bound.
	budget  int
	served  *atomic.Uint64 // successes of the operation, by any item
	healthy func() bool    // the dependency's readiness probe passes
	onRetry func(attempt int, err error)
}

// do calls fn until it succeeds, returns a permanent error, exhausts the budget, or ctx ends.
func (r retryPolicy) do(ctx context.Context, fn func() error) error {
	seen := r.served.Load()
	charged := 0
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil {
			r.served.Add(1)
			return nil
		}
		if !r.transient(err) || ctx.Err() != nil {
			return err
		}
		if now := r.served.Load(); now != seen {
			seen = now
			if r.healthy == nil || r.healthy() {
				charged++
			}
		}
		if r.budget > 0 && charged >= r.budget {
			return errPermanent{events.ClassRetriesExhausted, fmt.Errorf(
				"retries exhausted: %s failed %d times, %d of them while other %s calls succeeded: %w",
				r.op, attempt+1, charged, r.op, err)}
		}
		if r.onRetry != nil {
			r.onRetry(attempt, err)
		}
		t := time.NewTimer(r.backoff.Delay(attempt + 1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// retryPolicies are the pipeline's retry policies, one per external operation, built once (newRetryPolicies).
type retryPolicies struct {
	s3Get, s3Put, produceResult, produceDeadLetter retryPolicy
}

// newRetryPolicies builds the policies from the configuration. A dead letter has no budget: one that cannot be
// written leaves nothing else to do but wait (see RELIABILITY.md), unless waiting cannot help (the event is
// invalid or the writer is closed).
func (p *Pipeline) newRetryPolicies() retryPolicies {
	return retryPolicies{
		s3Get:             p.policy(opS3Get, &p.ops.s3Get, p.s3OK.Load, isTransient, 0),
		s3Put:             p.policy(opS3Put, &p.ops.s3Put, p.s3OK.Load, isTransient, 0),
		produceResult:     p.policy(opKafkaProduceResult, &p.ops.produceResult, p.kafkaOK.Load, isTransient, 0),
		produceDeadLetter: p.policy(opKafkaProduceDeadLetter, &p.ops.produceDeadLetter, p.kafkaOK.Load, deadLetterTransient, -1),
	}
}

// policy is the retry policy of one operation; budget 0 takes the configured RetryBudget.
func (p *Pipeline) policy(op string, served *atomic.Uint64, healthy func() bool, transient func(error) bool, budget int) retryPolicy {
	if budget == 0 {
		budget = p.cfg.RetryBudget
	}
	return retryPolicy{op: op, backoff: backoff.Exponential{Min: p.cfg.RetryMin, Max: p.cfg.RetryMax}, transient: transient,
		budget: budget, served: served, healthy: healthy, onRetry: p.onRetry(op)}
}

func (p *Pipeline) onRetry(op string) func(int, error) {
	return func(attempt int, err error) {
		p.metrics.retries.WithLabelValues(op).Inc()
		if attempt == 0 || attempt%10 == 0 {
			p.log.Warn("transient failure; retrying", zap.String("operation", op), zap.Int("attempt", attempt+1), zap.Error(err))
		}
	}
}
