package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Run loads the model and processes messages until ctx is cancelled, then drains in-flight work (bounded by
// DrainTimeout), commits what finished and returns. It returns an error if the model cannot be loaded, the
// reader is closed under it (consumer.ErrClosed; intake stops and the work taken in is drained) or the final
// commit fails.
//
// Two contexts: ctx stops intake (consume); the stages run on a work context of their own that ends only
// when the drain deadline passes, so that work fetched before shutdown can still finish and be committed.
func (p *Pipeline) Run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx) // The prober and the model watch end with Run, whatever ends it.
	defer stop()
	go p.probe(ctx)
	initial, err := p.loader.initial(ctx, p.deps.Models)
	if err != nil {
		if ctx.Err() != nil {
			return nil // Stopped before it started: nothing was fetched.
		}
		return fmt.Errorf("load model: %w", err)
	}
	p.setModel(initial)
	defer p.closeModel()
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); p.loader.watch(ctx, p.deps.Models, initial, p.swaps) }()
	defer p.discardSwaps(stop, watchDone)
	if p.lifecycle != nil {
		lifecycleDone := make(chan struct{})
		go func() { defer close(lifecycleDone); p.lifecycle.run(ctx) }()
		defer func() { stop(); <-lifecycleDone }()
	}

	workCtx, abandon := context.WithCancel(context.Background())
	defer abandon()
	queues, closeQueues, stagesDone := p.startStages(workCtx)
	stopCommits := p.startCommits()
	deadline, stopDeadline := p.drainDeadline(ctx, abandon)
	defer stopDeadline()

	fetchErr := p.consume(ctx, workCtx, queues)
	closeQueues()
	p.drain(stagesDone, deadline)
	stopCommits()
	if err := p.finalCommit(); err != nil {
		return errors.Join(fetchErr, err)
	}
	return fetchErr
}

// startStages starts the stage pools on ctx: fetch -> decode -> batcher -> infer -> write, and the feedback
// stage of label objects when there is one. It returns the queues the intake feeds, the function that closes
// them, and a channel closed when every stage has finished (after the queues are closed).
func (p *Pipeline) startStages(ctx context.Context) (intakeQueues, func(), <-chan struct{}) {
	c := p.cfg
	toFetch := make(chan *job, c.QueueSize)
	var toScore chan *job
	toDecode := make(chan *job, c.QueueSize)
	toBatch := make(chan *job, c.QueueSize)
	batches := make(chan []*job, 2)
	toWrite := make(chan *job, c.QueueSize)

	var stages sync.WaitGroup
	stages.Go(func() { runPool(ctx, c.FetchWorkers, toFetch, toDecode, p.traced("fetch", p.fetch)) })
	stages.Go(func() { runPool(ctx, c.DecodeWorkers, toDecode, toBatch, p.traced("decode", p.decode)) })
	stages.Go(func() { batchItems(ctx, toBatch, batches, p.batchLimits, p.batching.arrived) })
	stages.Go(func() { p.infer(ctx, batches, toWrite) })
	stages.Go(func() { runPool(ctx, c.WriteWorkers, toWrite, nil, p.traced("write", p.write)) })
	if p.lifecycle != nil && p.lifecycle.labels != nil {
		toScore = make(chan *job, c.QueueSize)
		stages.Go(func() { runPool(ctx, 1, toScore, nil, p.traced("feedback", p.feedback)) })
	}

	done := make(chan struct{})
	go func() { stages.Wait(); close(done) }()
	closeQueues := func() {
		close(toFetch)
		if toScore != nil {
			close(toScore)
		}
	}
	return intakeQueues{images: toFetch, labels: toScore}, closeQueues, done
}

// runPool runs n workers that take jobs from in until it is closed; a job its work accepts goes on to out
// (nil: the last stage). out is closed when the last worker ends.
func runPool(ctx context.Context, n int, in <-chan *job, out chan<- *job, work func(context.Context, *job) bool) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for j := range in {
				if !work(ctx, j) || out == nil {
					continue
				}
				select {
				case out <- j:
				case <-ctx.Done(): // Past the drain deadline the next stage may be gone.
				}
			}
		})
	}
	wg.Wait()
	if out != nil {
		close(out)
	}
}

// drainDeadline starts the drain clock when ctx ends, even while intake is still blocked (retrying a
// dead-letter write while Kafka is unreachable, say). When DrainTimeout passes it abandons the stages' work
// (unfinished messages stay uncommitted) and closes the returned channel. stop ends the clock.
func (p *Pipeline) drainDeadline(ctx context.Context, abandon context.CancelFunc) (passed <-chan struct{}, stop func()) {
	deadline := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-finished:
			return
		}
		t := time.NewTimer(p.cfg.DrainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			p.log.Warn("drain deadline passed; unfinished messages stay uncommitted and will be redelivered",
				zap.Int("in_flight", p.wm.InFlight()))
			abandon()
			close(deadline)
		case <-finished:
		}
	}()
	return deadline, func() { close(finished) }
}

// drain waits for the stages to finish the work already taken in, or for the drain deadline (after which
// the abandoned stages still end promptly).
func (p *Pipeline) drain(stagesDone, deadline <-chan struct{}) {
	select {
	case <-stagesDone:
		p.log.Info("drained in-flight work")
	case <-deadline:
		<-stagesDone
	}
}
