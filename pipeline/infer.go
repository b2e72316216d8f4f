package pipeline

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model/inference"
)

// infer runs batches through the model, swapping in a new model version between batches.
func (p *Pipeline) infer(ctx context.Context, in <-chan []*job, out chan<- *job) {
	defer close(out)
	for {
		batch, ok := p.nextBatch(in)
		if !ok {
			return
		}
		p.inferBatch(ctx, batch, out)
	}
}

// nextBatch waits for the next batch, swapping models while idle and once more before the batch, so that
// a version made ready meanwhile serves from this batch on. false when in is closed.
func (p *Pipeline) nextBatch(in <-chan []*job) ([]*job, bool) {
	for {
		select {
		case m := <-p.swaps:
			p.swap(m)
		case batch, ok := <-in:
			if !ok {
				return nil, false
			}
			select {
			case m := <-p.swaps:
				p.swap(m)
			default:
			}
			return batch, true
		}
	}
}

// inferBatch segments one batch with the model in use and passes its jobs on; if inference fails, every job
// of the batch is dead-lettered as internal.
func (p *Pipeline) inferBatch(ctx context.Context, batch []*job, out chan<- *job) {
	m := p.model
	start := time.Now()
	prepared := make([]*inference.Prepared, len(batch))
	for i, j := range batch {
		prepared[i] = j.prepared
	}
	span := p.traceBatch(ctx, batch, m, start)
	results, err := m.sess.Segment(ctx, prepared)
	endBatch(span, err)
	p.live.inferred(m.version, len(batch), time.Since(start).Seconds(), err != nil)
	if err != nil {
		for _, j := range batch {
			if ctx.Err() == nil {
				p.failJob(ctx, j, events.ClassInternal, fmt.Errorf("inference: %w", err))
			}
		}
		return
	}
	now := time.Now()
	p.metrics.batchSize.Observe(float64(len(batch)))
	p.batching.inferred(len(batch), now.Sub(start))
	for i, j := range batch {
		j.result, j.model, j.batched, j.inferred = results[i], m, start, now
		p.offerShadow(j)
		j.prepared.Tensor = nil
		p.observeStage("queue", j, start.Sub(j.decoded))
		p.observeStage("infer", j, now.Sub(start))
		select {
		case out <- j:
		case <-ctx.Done():
		}
	}
}

// swap replaces the model in use; it runs on the inference goroutine, between batches.
func (p *Pipeline) swap(m *servingModel) {
	old := p.model
	p.setModel(m)
	if err := old.close(); err != nil {
		p.log.Warn("closing the previous model", zap.Error(err))
	}
	p.log.Info("model swapped", zap.String("from", old.version), zap.String("to", m.version))
}

// closeModel closes the model in use when Run returns.
// discardSwaps ends the model watch (stop, then waits for done) and closes the session of a version it loaded
// that inference never took: after the stages end, nothing else would.
func (p *Pipeline) discardSwaps(stop func(), done <-chan struct{}) {
	stop()
	<-done
	for {
		select {
		case m := <-p.swaps:
			m.close() //nolint:errcheck // Never served.
		default:
			return
		}
	}
}

func (p *Pipeline) closeModel() {
	if p.model != nil {
		p.model.close() //nolint:errcheck // Shutting down.
	}
}

func (p *Pipeline) setModel(m *servingModel) {
	if p.model != nil {
		old := p.model
		p.metrics.modelInfo.DeleteLabelValues(old.name, old.version, old.sess.Provider())
	}
	p.model = m
	p.serving.Store(m)
	p.modelCfg.Store(m.sess.Config())
	p.modelVer.Store(m.version)
	p.modelReady.Store(true)
	p.metrics.modelInfo.WithLabelValues(m.name, m.version, m.sess.Provider()).Set(1)
}
