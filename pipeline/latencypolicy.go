package pipeline

import (
	"math"
	"sync"
	"time"
)

// batchLimits bound one batch: it is sent once it holds size items, or wait after its first item arrived;
// items already queued when it is sent join it, up to max (0: size).
type batchLimits struct {
	size int
	wait time.Duration
	max  int
}

// latencyPolicy chooses the limits of each batch so that the predicted p99 latency of an image, from its fetch
// to its event, stays under target, with the smallest batch that keeps up with the arrivals (the lowest
// latency at that throughput), or, when none does, the largest batch that keeps the target (the most
// throughput). It learns online, from what the stages report:
//
//   - the inference time of a batch of b images, as a line a + c·b fitted by exponentially weighted least
//     squares (inferred);
//   - the arrival rate at the batcher, from the exponentially weighted gap between items (arrived);
//   - the rest of an image's latency (fetch, decode, write, publish), as a weighted mean plus three weighted
//     mean absolute deviations, a p99 estimate (finished).
//
// The prediction for a batch of b sent after waiting w is rest99 + w + 2·t(b): an image may wait for the batch
// before it to finish, then for its own. Items queued when a batch goes join it up to the maximum size, so a
// burst is absorbed without waiting. A zero target keeps the fixed window: size and wait as configured.
// It is safe for concurrent use.
type latencyPolicy struct {
	target  time.Duration
	maxSize int
	maxWait time.Duration // the fixed window, used while nothing has been learned

	mu        sync.Mutex
	fit       weightedLine  // inference seconds against batch size
	gap       ewma          // seconds between arrivals
	last      time.Time     // last arrival
	rest      ewma          // seconds of the rest of an image's latency
	restDev   ewma          // mean absolute deviation of rest
	predicted time.Duration // the prediction for the current limits
}

// policyDecay is the weight of the newest observation in every running estimate.
const policyDecay = 0.05

// capacityHeadroom is how much faster than the arrivals a chosen batch size must process images.
const capacityHeadroom = 1.2

func newLatencyPolicy(target time.Duration, maxSize int, maxWait time.Duration) *latencyPolicy {
	return &latencyPolicy{target: max(target, 0), maxSize: maxSize, maxWait: maxWait}
}

// arrived records an item reaching the batcher at t.
func (l *latencyPolicy) arrived(t time.Time) {
	if l == nil || l.target == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.gap.add(t.Sub(l.last).Seconds())
	}
	l.last = t
}

// inferred records the inference time of a batch of size images.
func (l *latencyPolicy) inferred(size int, d time.Duration) {
	if l == nil || l.target == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fit.add(float64(size), d.Seconds())
}

// finished records the rest of an image's latency: its total less its wait in the batcher and its inference.
func (l *latencyPolicy) finished(rest time.Duration) {
	if l == nil || l.target == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := rest.Seconds()
	if l.rest.n > 0 {
		l.restDev.add(math.Abs(s - l.rest.v))
	}
	l.rest.add(s)
}

// limits returns the limits of the next batch and the p99 latency predicted with them (0 with no target or
// before the first inference). A nil policy sends every item alone.
func (l *latencyPolicy) limits() (batchLimits, time.Duration) {
	if l == nil {
		return batchLimits{size: 1}, 0
	}
	if l.target == 0 {
		return batchLimits{size: l.maxSize, wait: l.maxWait, max: l.maxSize}, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fit.n == 0 {
		return batchLimits{size: 1, max: l.maxSize}, 0 // nothing learned: no waiting until a batch has been timed
	}
	rest99 := l.rest.v + 3*l.restDev.v
	chosen, slack := l.choose(rest99)
	wait := 0.0
	if chosen > 1 {
		fill := math.Inf(1)
		if l.gap.n > 0 {
			fill = float64(chosen-1) * l.gap.v * capacityHeadroom
		}
		if slack > 0 {
			wait = min(slack, fill)
		} else {
			wait = min(l.maxWait.Seconds(), fill) // the target is out of reach at this load: keep up first
		}
	}
	lim := batchLimits{size: chosen, wait: time.Duration(wait * float64(time.Second)), max: l.maxSize}
	l.predicted = time.Duration((rest99 + wait + 2*l.fit.predict(float64(chosen))) * float64(time.Second))
	return lim, l.predicted
}

// choose returns the batch size for the next batch and its slack (target less the predicted latency without
// waiting; negative when out of reach): the smallest size that keeps up with the arrivals within the target;
// else, when the target is out of reach at this load, the smallest size that keeps up; else (overload) the
// largest size, the most throughput. Before any arrival is seen, the largest size within the target.
func (l *latencyPolicy) choose(rest99 float64) (size int, slack float64) {
	slackOf := func(b int) float64 { return l.target.Seconds() - rest99 - 2*l.fit.predict(float64(b)) }
	keepsUp := func(b int) bool {
		return l.gap.n > 0 && float64(b)/l.fit.predict(float64(b)) >= capacityHeadroom/l.gap.v
	}
	if l.gap.n == 0 {
		size = 1
		for b := 2; b <= l.maxSize && slackOf(b) >= 0; b++ {
			size = b
		}
		return size, slackOf(size)
	}
	for b := 1; b <= l.maxSize; b++ {
		if keepsUp(b) && slackOf(b) >= 0 {
			return b, slackOf(b)
		}
	}
	for b := 1; b <= l.maxSize; b++ {
		if keepsUp(b) {
			return b, slackOf(b)
		}
	}
	return l.maxSize, slackOf(l.maxSize)
}

// ewma is an exponentially weighted moving average; n counts the observations.
type ewma struct {
	v float64
	n int
}

func (e *ewma) add(x float64) {
	if e.n == 0 {
		e.v = x
	} else {
		e.v += policyDecay * (x - e.v)
	}
	e.n++
}

// weightedLine fits y = a + c·x by least squares over exponentially weighted sums.
type weightedLine struct {
	sw, sx, sy, sxx, sxy float64
	n                    int
}

func (w *weightedLine) add(x, y float64) {
	k := 1 - policyDecay
	w.sw, w.sx, w.sy = k*w.sw+1, k*w.sx+x, k*w.sy+y
	w.sxx, w.sxy = k*w.sxx+x*x, k*w.sxy+x*y
	w.n++
}

// predict is the fitted y at x. With one distinct x so far it scales the mean y with x (proportional cost,
// a cautious guess above the observed sizes); the slope is never negative.
func (w *weightedLine) predict(x float64) float64 {
	mx, my := w.sx/w.sw, w.sy/w.sw
	varX := w.sxx/w.sw - mx*mx
	if varX < 1e-9 {
		return my * x / mx
	}
	c := max((w.sxy/w.sw-mx*my)/varX, 0)
	return max(my+c*(x-mx), 0)
}

// batchLimits are the limits of the next batch (see latencyPolicy), shown in the batcher's metrics.
func (p *Pipeline) batchLimits() batchLimits {
	lim, predicted := p.batching.limits()
	p.metrics.batchLimit.Set(float64(lim.size))
	p.metrics.batchWaitLimit.Set(lim.wait.Seconds())
	p.metrics.predictedP99.Set(predicted.Seconds())
	return lim
}
