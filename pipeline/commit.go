package pipeline

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// commitTimeout bounds one commit of the watermark.
const commitTimeout = 10 * time.Second

// startCommits starts the commit loop; stop ends it and waits for it.
func (p *Pipeline) startCommits() (stop func()) {
	stopCh, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); p.commitLoop(stopCh) }()
	return func() { close(stopCh); <-done }
}

// commitLoop commits the watermark every CommitInterval until stop is closed. A failed commit is retried at
// the next tick; the watermark only moves forward, so nothing is lost in between.
func (p *Pipeline) commitLoop(stop <-chan struct{}) {
	t := time.NewTicker(p.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		err := p.deps.Reader.Commit(ctx, p.wm)
		cancel()
		if err != nil {
			p.metrics.commitFailures.Inc()
			p.kafkaOK.Store(false)
			p.log.Warn("commit failed; will retry", zap.Error(err))
		}
		p.metrics.inFlight.Set(float64(p.wm.InFlight()))
	}
}

// finalCommit commits the watermark of what finished.
func (p *Pipeline) finalCommit() error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	if err := p.deps.Reader.Commit(ctx, p.wm); err != nil {
		p.log.Error("final commit failed", zap.Error(err))
		return fmt.Errorf("final commit: %w", err)
	}
	return nil
}
