package pipeline

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/lifecycle"
	"github.com/vitseg/vitseg/model/registry"
)

// shadowSample is one live image offered to the candidate: its decoded input and the current model's mask.
type shadowSample struct {
	prepared inference.Prepared // Tensor and size only
	live     *imaging.Mask
}

// shadowRunner runs one candidate on sampled live images, off the live path: inference offers samples
// without ever waiting (a full queue drops them, counted), and one goroutine of its own segments them with the
// candidate, compares the masks with the current model's and counts. Nothing it does reaches masks, events or
// commits.
type shadowRunner struct {
	model    *servingModel
	budget   *shadowBudget
	queue    chan shadowSample
	maxBatch int
	metrics  *metrics
	log      *zap.Logger
	stop     context.CancelFunc
	done     chan struct{}

	mu    sync.Mutex
	stats registry.ShadowStats // since the last take
}

// startShadow starts a runner of m (which it closes when stopped) with a queue of queueSize samples and an
// inference time budget of cpuShare seconds per second (0: none).
func startShadow(ctx context.Context, m *servingModel, queueSize, maxBatch int, cpuShare float64, met *metrics, log *zap.Logger) *shadowRunner {
	ctx, stop := context.WithCancel(ctx)
	r := &shadowRunner{model: m, budget: newShadowBudget(cpuShare, time.Now()), queue: make(chan shadowSample, queueSize), maxBatch: maxBatch, metrics: met,
		log: log.With(zap.String("candidate", m.version)), stop: stop, done: make(chan struct{})}
	go r.run(ctx)
	return r
}

// offer queues a sample unless the inference budget is spent or the queue is full (then it is dropped and
// counted); it never blocks.
func (r *shadowRunner) offer(s shadowSample) {
	if !r.budget.allow(time.Now()) {
		r.drop()
		return
	}
	select {
	case r.queue <- s:
	default:
		r.drop()
	}
}

// drop counts a sample the candidate will not see.
func (r *shadowRunner) drop() {
	r.metrics.shadowDropped.WithLabelValues(r.model.version).Inc()
	r.count(func(st *registry.ShadowStats) { st.Dropped++ })
}

// close stops the runner, waits for its goroutine and closes the candidate's session.
func (r *shadowRunner) close() {
	r.stop()
	<-r.done
	r.model.close() //nolint:errcheck // Never served.
}

func (r *shadowRunner) run(ctx context.Context) {
	defer close(r.done)
	for {
		var batch []shadowSample
		select {
		case <-ctx.Done():
			return
		case s := <-r.queue:
			batch = append(batch, s)
		}
	fill:
		for len(batch) < r.maxBatch {
			select {
			case s := <-r.queue:
				batch = append(batch, s)
			default:
				break fill
			}
		}
		r.evaluate(ctx, batch)
	}
}

// evaluate segments a batch with the candidate and compares each mask with the current model's.
func (r *shadowRunner) evaluate(ctx context.Context, batch []shadowSample) {
	version := r.model.version
	prepared := make([]*inference.Prepared, len(batch))
	for i := range batch {
		prepared[i] = &batch[i].prepared
	}
	start := time.Now()
	results, err := r.model.sess.Segment(ctx, prepared)
	end := time.Now()
	r.budget.spend(end.Sub(start), end)
	perImage := end.Sub(start).Seconds() / float64(len(batch))
	if ctx.Err() != nil {
		return // Stopped: the candidate is gone or serve is shutting down.
	}
	if err != nil {
		r.metrics.shadowErrors.WithLabelValues(version).Add(float64(len(batch)))
		r.count(func(st *registry.ShadowStats) { st.Errors += int64(len(batch)) })
		r.log.Warn("shadow inference failed", zap.Int("images", len(batch)), zap.Error(err))
		return
	}
	classes := r.model.sess.Config().Classes
	var d registry.ShadowStats
	for i, res := range results {
		ag, err := lifecycle.Compare(batch[i].live, res.Mask.Base, classes)
		if err != nil {
			d.Errors++
			r.metrics.shadowErrors.WithLabelValues(version).Inc()
			r.log.Warn("shadow comparison failed", zap.Error(err))
			continue
		}
		d.Images++
		d.AgreementSum += ag.Pixel
		d.MeanIoUSum += ag.MeanIoU
		d.PetAreaDiffSum += ag.PetAreaDiff
		d.Latency.Observe(perImage)
		r.metrics.shadowImages.WithLabelValues(version).Inc()
		r.metrics.shadowAgreement.WithLabelValues(version).Observe(ag.Pixel)
		r.metrics.shadowIoU.WithLabelValues(version).Observe(ag.MeanIoU)
		r.metrics.shadowLatency.WithLabelValues(version).Observe(perImage)
	}
	r.count(func(st *registry.ShadowStats) { st.Add(d) })
}

func (r *shadowRunner) count(f func(*registry.ShadowStats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.stats)
}

// take returns the figures counted since the last take and starts afresh.
func (r *shadowRunner) take() registry.ShadowStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	r.stats = registry.ShadowStats{}
	return s
}
