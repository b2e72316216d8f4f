// Package pipeline is vitseg's stream processor: it consumes image references from Kafka, fetches the images
// from S3, segments them in dynamic batches with the ViT, writes the mask PNGs back to S3, produces result
// events, and commits input offsets only behind a watermark of fully finished messages (at-least-once: a
// message is committed only after its masks and events, or its dead-letter event, are durably written).
//
//	Kafka --fetch--> parse/filter --> S3 fetch pool --> decode pool --> batcher --> inference
//	       (commit watermark) <-- events <-- mask writers <---------------------------'
//
// Every queue between stages is bounded, so a slow stage (or an unreachable S3) pushes back up to the Kafka
// fetch. A new model version from the registry is swapped in between two batches.
package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/producer"
)

// Config tunes the pipeline. Zero values take the defaults of DefaultConfig.
type Config struct {
	OutputBucket   string // where masks go; empty: the source object's bucket
	OutputPrefix   string // key prefix of masks (default "masks/")
	MaxBatch       int    // dynamic batcher: most images per inference
	MaxWait        time.Duration
	FetchWorkers   int
	DecodeWorkers  int
	WriteWorkers   int
	QueueSize      int // capacity of each inter-stage queue
	Limits         imaging.Limits
	DrainTimeout   time.Duration // graceful shutdown deadline
	CommitInterval time.Duration // how often finished offsets are committed
	RetryMin       time.Duration // backoff bounds for transient S3 and Kafka errors
	RetryMax       time.Duration
	// RetryBudget is how many failed attempts of one item's S3 or Kafka call are tolerated while the same
	// operation succeeds for other items and the dependency's probe passes; past it the item is dead-lettered
	// as retries_exhausted. Attempts during an outage are not counted. Negative: no bound.
	RetryBudget   int
	ProbeInterval time.Duration // readiness probes of S3 and Kafka
	MaxAttempts   int           // replays (consumer.HeaderAttempt) beyond this are dead-lettered attempts_exhausted
	MaxAge        time.Duration // references older than this are dead-lettered expired; 0: no deadline

	// IgnoreOrientation keeps images as stored instead of applying their EXIF orientation (serve
	// --exif-orientation=false); masks and event sizes then follow the stored pixels.
	IgnoreOrientation bool
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{OutputPrefix: "masks/", MaxBatch: 8, MaxWait: 20 * time.Millisecond, FetchWorkers: 8,
		DecodeWorkers: 2, WriteWorkers: 8, QueueSize: 64, Limits: imaging.DefaultLimits(),
		DrainTimeout: 30 * time.Second, CommitInterval: 200 * time.Millisecond,
		RetryMin: 100 * time.Millisecond, RetryMax: 5 * time.Second, RetryBudget: 10, ProbeInterval: 5 * time.Second,
		MaxAttempts: 3}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	if c.OutputPrefix == "" {
		c.OutputPrefix = d.OutputPrefix
	}
	set(&c.MaxBatch, d.MaxBatch)
	set(&c.FetchWorkers, d.FetchWorkers)
	set(&c.DecodeWorkers, d.DecodeWorkers)
	set(&c.WriteWorkers, d.WriteWorkers)
	set(&c.QueueSize, d.QueueSize)
	if c.RetryBudget == 0 {
		c.RetryBudget = d.RetryBudget
	}
	set(&c.MaxAttempts, d.MaxAttempts)
	setD(&c.MaxWait, d.MaxWait)
	setD(&c.DrainTimeout, d.DrainTimeout)
	setD(&c.CommitInterval, d.CommitInterval)
	setD(&c.RetryMin, d.RetryMin)
	setD(&c.RetryMax, d.RetryMax)
	setD(&c.ProbeInterval, d.ProbeInterval)
	c.Limits = imaging.Limits{MaxBytes: c.Limits.MaxBytes, MaxPixels: c.Limits.MaxPixels}
	if c.Limits.MaxBytes <= 0 {
		c.Limits.MaxBytes = d.Limits.MaxBytes
	}
	if c.Limits.MaxPixels <= 0 {
		c.Limits.MaxPixels = d.Limits.MaxPixels
	}
	return c
}

// Reader is the Kafka consumer the pipeline reads from (*consumer.Reader).
type Reader interface {
	Fetch(ctx context.Context) (kafka.Message, error)
	CommitWatermark(ctx context.Context, w *consumer.Watermark) error
	Lag() int64
}

// Writer produces result and dead-letter events (*producer.Writer).
type Writer interface {
	PublishResults(ctx context.Context, events ...producer.ResultEvent) error
	PublishDeadLetters(ctx context.Context, events ...producer.DeadLetterEvent) error
}

// Deps are the pipeline's connections.
type Deps struct {
	Reader     Reader
	Writer     Writer
	S3         *minio.Client
	Filter     *consumer.Filter
	Runtime    *inference.Runtime
	Session    inference.Options
	Models     ModelSource
	KafkaProbe func(ctx context.Context) error // readiness: is Kafka reachable?
	Logger     *zap.Logger
	Tracing    trace.TracerProvider // spans per image and batch (see tracing.go); nil: none, trace context passed on
}

// Pipeline is one running stream processor.
type Pipeline struct {
	cfg     Config
	deps    Deps
	log     *zap.Logger
	metrics *metrics
	wm      *consumer.Watermark
	loader  *modelLoader
	swaps   chan *servingModel
	model   *servingModel // owned by the inference goroutine
	tracer  trace.Tracer
	masks   imaging.MaskEncoder

	modelReady atomic.Bool
	s3OK       atomic.Bool
	kafkaOK    atomic.Bool
	modelVer   atomic.Value // string: the version in use
	modelCfg   atomic.Value // model.Config of the model in use
	ops        operations
	probeNow   chan struct{} // asks the prober for an S3 check now
}

// New validates the configuration and returns a pipeline; Run starts it.
func New(cfg Config, deps Deps) (*Pipeline, error) {
	var missing []string
	if deps.Reader == nil {
		missing = append(missing, "Reader")
	}
	if deps.Writer == nil {
		missing = append(missing, "Writer")
	}
	if deps.S3 == nil {
		missing = append(missing, "S3")
	}
	if deps.Filter == nil {
		missing = append(missing, "Filter")
	}
	if deps.Runtime == nil {
		missing = append(missing, "Runtime")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("pipeline: missing dependencies: %s", strings.Join(missing, ", "))
	}
	if deps.Models.File == "" && deps.Models.Registry == nil {
		return nil, errors.New("pipeline: no model source: give a model file or a registry")
	}
	if err := checkOutputPrefix(cfg.withDefaults().OutputPrefix); err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	m := newMetrics()
	p := &Pipeline{cfg: cfg.withDefaults(), deps: deps, log: deps.Logger, metrics: m, wm: consumer.NewWatermark(),
		swaps: make(chan *servingModel, 1), probeNow: make(chan struct{}, 1)}
	p.tracer = newTracer(deps.Tracing)
	p.deps.Writer = tracedWriter{Writer: deps.Writer, tracer: p.tracer}
	p.loader = &modelLoader{runtime: deps.Runtime, opts: deps.Session, log: deps.Logger, metrics: m}
	p.modelVer.Store("")
	return p, nil
}

// message is one fetched Kafka message and the number of its image references still in progress.
type message struct {
	msg     kafka.Message
	pending atomic.Int32
}

// job is one image reference travelling through the stages.
type job struct {
	msg      *message
	ref      consumer.ImageRef
	received time.Time
	fetched  time.Time
	decoded  time.Time
	batched  time.Time
	inferred time.Time
	etag     string
	size     int64
	data     []byte
	prepared *inference.Prepared
	result   inference.Segmentation
	model    *servingModel
	span     trace.Span // the image span (tracing.go)
}

// Run loads the model and processes messages until ctx is cancelled, then drains in-flight work (bounded by
// DrainTimeout), commits what finished and returns. It returns an error if the model cannot be loaded or a
// stage fails for a reason other than shutdown.
func (p *Pipeline) Run(ctx context.Context) error {
	workCtx, cancelWork := context.WithCancel(context.Background())
	defer cancelWork()

	go p.probe(ctx)
	initial, err := p.loader.initial(ctx, p.deps.Models)
	if err != nil {
		if ctx.Err() != nil {
			return nil // Stopped before it started: nothing was fetched.
		}
		return fmt.Errorf("load model: %w", err)
	}
	p.setModel(initial)
	defer func() {
		if p.model != nil {
			p.model.sess.Close() //nolint:errcheck
		}
	}()
	go p.loader.watch(ctx, p.deps.Models, initial.version, p.swaps)

	c := p.cfg
	toFetch := make(chan *job, c.QueueSize)
	toDecode := make(chan *job, c.QueueSize)
	toBatch := make(chan *job, c.QueueSize)
	batches := make(chan []*job, 2)
	toWrite := make(chan *job, c.QueueSize)

	var stages sync.WaitGroup
	pool := func(n int, in <-chan *job, out chan<- *job, work func(context.Context, *job) bool) {
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range in {
					if work(workCtx, j) && out != nil {
						select {
						case out <- j:
						case <-workCtx.Done(): // Past the drain deadline the next stage may be gone.
						}
					}
				}
			}()
		}
		stages.Add(1)
		go func() {
			defer stages.Done()
			wg.Wait()
			if out != nil {
				close(out)
			}
		}()
	}
	pool(c.FetchWorkers, toFetch, toDecode, p.traced("fetch", p.fetch))
	pool(c.DecodeWorkers, toDecode, toBatch, p.traced("decode", p.decode))
	stages.Add(2)
	go func() { defer stages.Done(); batchItems(workCtx, toBatch, batches, c.MaxBatch, c.MaxWait) }()
	go func() { defer stages.Done(); p.infer(workCtx, batches, toWrite) }()
	pool(c.WriteWorkers, toWrite, nil, p.traced("write", p.write))

	commitDone := make(chan struct{})
	stopCommit := make(chan struct{})
	go func() { defer close(commitDone); p.commitLoop(stopCommit) }()

	// The drain deadline runs from the moment ctx ends, even while consume is still blocked (retrying a
	// dead-letter write while Kafka is unreachable, say): past it, unfinished work is abandoned uncommitted.
	deadline := make(chan struct{})
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
		case <-finished:
			return
		}
		t := time.NewTimer(c.DrainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			p.log.Warn("drain deadline passed; unfinished messages stay uncommitted and will be redelivered",
				zap.Int("in_flight", p.wm.InFlight()))
			cancelWork()
			close(deadline)
		case <-finished:
		}
	}()

	fetchErr := p.consume(ctx, workCtx, toFetch)
	close(toFetch)

	// Drain: let in-flight work finish, up to the deadline.
	drained := make(chan struct{})
	go func() { stages.Wait(); close(drained) }()
	select {
	case <-drained:
		p.log.Info("drained in-flight work")
	case <-deadline:
		<-drained
	}
	close(stopCommit)
	<-commitDone
	commitCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.deps.Reader.CommitWatermark(commitCtx, p.wm); err != nil {
		p.log.Error("final commit failed", zap.Error(err))
		return errors.Join(fetchErr, fmt.Errorf("final commit: %w", err))
	}
	return fetchErr
}

// consume fetches messages until ctx ends, tracking each in the watermark and fanning out its references.
func (p *Pipeline) consume(ctx, workCtx context.Context, out chan<- *job) error {
	for {
		msg, err := p.deps.Reader.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.kafkaOK.Store(false)
			p.log.Warn("fetch failed; retrying", zap.Error(err))
			p.metrics.retries.WithLabelValues("kafka_fetch").Inc()
			select {
			case <-time.After(p.cfg.RetryMin):
				continue
			case <-ctx.Done():
				return nil
			}
		}
		received := time.Now()
		p.metrics.consumed.Inc()
		p.metrics.lag.Set(float64(p.deps.Reader.Lag()))
		if p.wm.Track(msg.Partition, msg.Offset) {
			p.log.Info("partition restarted (rebalance or redelivery)", zap.Int("partition", msg.Partition),
				zap.Int64("offset", msg.Offset))
		}
		p.metrics.inFlight.Set(float64(p.wm.InFlight()))
		m := &message{msg: msg}
		refs, err := consumer.ParseMessage(msg.Value)
		if err != nil {
			p.reject(workCtx, m, nil, err)
			continue
		}
		var accepted []consumer.ImageRef
		for _, ref := range refs {
			if err := p.deps.Filter.Check(ref); err != nil {
				if errors.Is(err, consumer.ErrIgnored) {
					p.metrics.ignored.Inc()
					continue
				}
				if len(refs) == 1 {
					p.reject(workCtx, m, &ref, err)
					accepted = nil
					break
				}
				if !p.deadLetter(workCtx, m, producer.ClassNotAllowed, reason(err), &ref) {
					// Shutdown before this record's dead letter was written: leave the whole message
					// uncommitted, to be redelivered.
					return nil
				}
				continue
			}
			accepted = append(accepted, ref)
		}
		if class, why := p.admission(msg, received); class != "" && len(accepted) > 0 {
			if !p.refuse(workCtx, m, accepted, class, why) {
				return nil // Shutdown before the dead letters were written: redelivered later.
			}
			continue
		}
		if len(accepted) == 0 {
			p.finishMessage(m)
			continue
		}
		m.pending.Store(int32(len(accepted)))
		for _, ref := range accepted {
			select {
			case out <- p.newJob(m, ref, received):
			case <-ctx.Done():
				// Shutdown while the queue is full: this message stays uncommitted and will be redelivered.
				return nil
			}
		}
	}
}

// reject handles a message that yields no work: ignored messages are just finished; others are dead-lettered.
func (p *Pipeline) reject(ctx context.Context, m *message, ref *consumer.ImageRef, err error) {
	switch {
	case errors.Is(err, consumer.ErrIgnored):
		p.metrics.ignored.Inc()
		p.finishMessage(m)
	case errors.Is(err, consumer.ErrNotAllowed):
		if p.deadLetter(ctx, m, producer.ClassNotAllowed, reason(err), ref) {
			p.finishMessage(m)
		}
	default:
		if p.deadLetter(ctx, m, producer.ClassMalformedMessage, reason(err), ref) {
			p.finishMessage(m)
		}
	}
}

// reason is the dead-letter reason of a rejected message: its kind, the parser's reason and the cause (a JSON
// syntax error, say), if any.
func reason(err error) string {
	var me *consumer.MessageError
	if errors.As(err, &me) {
		if me.Err != nil {
			return me.Kind.Error() + ": " + me.Reason + ": " + me.Err.Error()
		}
		return me.Kind.Error() + ": " + me.Reason
	}
	return err.Error()
}

// deadLetter produces a dead-letter event, retrying transient failures until ctx ends. It reports whether the
// event was durably written (only then may the message be committed).
func (p *Pipeline) deadLetter(ctx context.Context, m *message, class producer.ErrorClass, why string, ref *consumer.ImageRef) bool {
	ctx = messageContext(ctx, m)
	var src *producer.ObjectRef
	if ref != nil {
		src = &producer.ObjectRef{Bucket: ref.Bucket, Key: ref.Key}
	}
	ev := producer.NewDeadLetter(m.msg, class, why, src, time.Now().UTC())
	stripped := false
	// No budget: a dead letter that cannot be written leaves nothing else to do but wait (see RELIABILITY.md).
	policy := p.policy("kafka_produce_deadletter", &p.ops.produceDeadLetter, p.kafkaOK.Load, alwaysTransient, -1)
	err := policy.do(ctx, func() error {
		err := p.deps.Writer.PublishDeadLetters(ctx, ev)
		if tooLarge(err) && !stripped {
			// Retrying cannot help: write the event without the copy of the original message.
			p.log.Warn("dead-letter event too large for its topic; writing it without the original message", zap.Error(err))
			ev, stripped = withoutOriginalPayload(ev), true
			err = p.deps.Writer.PublishDeadLetters(ctx, ev)
		}
		return err
	})
	if err != nil {
		p.log.Error("dead-letter event not written; the message stays uncommitted", zap.Error(err))
		return false
	}
	p.metrics.failed.WithLabelValues(string(class)).Inc()
	p.metrics.deadLettered.WithLabelValues(string(class)).Inc()
	p.log.Warn("dead-lettered", zap.String("class", string(class)), zap.String("reason", why),
		zap.Int("partition", m.msg.Partition), zap.Int64("offset", m.msg.Offset))
	return true
}

// tooLarge reports whether a produce failed because the message is over the client's or the topic's size limit.
func tooLarge(err error) bool {
	return errors.Is(err, kafka.MessageSizeTooLarge) || errors.As(err, new(kafka.MessageTooLargeError))
}

// withoutOriginalPayload drops the copied key, value and headers of a dead-letter event, keeping the sizes.
func withoutOriginalPayload(ev producer.DeadLetterEvent) producer.DeadLetterEvent {
	empty := func(p producer.Payload) producer.Payload {
		return producer.Payload{Encoding: producer.EncodingUTF8, Size: p.Size, Truncated: p.Size > 0}
	}
	ev.Original.Value = empty(ev.Original.Value)
	if k := ev.Original.Key; k != nil {
		e := empty(*k)
		ev.Original.Key = &e
	}
	ev.Original.Headers = []producer.Header{}
	return ev
}

func (p *Pipeline) finishMessage(m *message) {
	p.wm.Done(m.msg.Partition, m.msg.Offset)
	p.metrics.inFlight.Set(float64(p.wm.InFlight()))
}

// finishJob marks one reference of a message finished; the message is finished with its last reference.
func (p *Pipeline) finishJob(j *job) {
	j.span.End()
	if j.msg.pending.Add(-1) == 0 {
		p.finishMessage(j.msg)
	}
}

// failJob dead-letters one reference; if that cannot be written the message stays uncommitted.
func (p *Pipeline) failJob(ctx context.Context, j *job, class producer.ErrorClass, err error) {
	ctx = traceFailure(ctx, j, class, err)
	if p.deadLetter(ctx, j.msg, class, err.Error(), &j.ref) {
		p.finishJob(j)
	}
}

// policy is the retry policy of one operation; budget 0 takes the configured RetryBudget.
func (p *Pipeline) policy(op string, served *atomic.Uint64, healthy func() bool, transient func(error) bool, budget int) retryPolicy {
	if budget == 0 {
		budget = p.cfg.RetryBudget
	}
	return retryPolicy{op: op, backoff: backoff{min: p.cfg.RetryMin, max: p.cfg.RetryMax}, transient: transient,
		budget: budget, served: served, healthy: healthy, onRetry: p.onRetry(op)}
}

func alwaysTransient(error) bool { return true }

func (p *Pipeline) onRetry(op string) func(int, error) {
	return func(attempt int, err error) {
		p.metrics.retries.WithLabelValues(op).Inc()
		if attempt == 0 || attempt%10 == 0 {
			p.log.Warn("transient failure; retrying", zap.String("operation", op), zap.Int("attempt", attempt+1), zap.Error(err))
		}
	}
}

// fetch downloads one object (bounded by Limits.MaxBytes), retrying transient failures.
func (p *Pipeline) fetch(ctx context.Context, j *job) bool {
	policy := p.policy("s3_get", &p.ops.s3Get, p.s3OK.Load, isTransient, 0)
	err := checkObjectName(s3Get, j.ref.Key)
	if err == nil {
		err = policy.do(ctx, func() error { return p.noteS3(p.getObject(ctx, j)) })
	}
	if err != nil {
		var pe errPermanent
		if errors.As(err, &pe) {
			p.failJob(ctx, j, pe.class, err)
		} else {
			p.log.Warn("fetch abandoned at shutdown; the message stays uncommitted", zap.Stringer("object", j.ref), zap.Error(err))
		}
		return false
	}
	j.fetched = time.Now()
	p.metrics.stageSeconds.WithLabelValues("fetch").Observe(j.fetched.Sub(j.received).Seconds())
	return true
}

// getObject makes one attempt at downloading j's object; its error is classified (classifyS3).
func (p *Pipeline) getObject(ctx context.Context, j *job) error {
	obj, err := p.deps.S3.GetObject(ctx, j.ref.Bucket, j.ref.Key, minio.GetObjectOptions{})
	if err != nil {
		return classifyS3(s3Get, err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return classifyS3(s3Get, err)
	}
	if info.Size > p.cfg.Limits.MaxBytes {
		return errPermanent{producer.ClassTooLarge, fmt.Errorf("object is %d bytes, over the limit of %d",
			info.Size, p.cfg.Limits.MaxBytes)}
	}
	data, err := io.ReadAll(io.LimitReader(obj, p.cfg.Limits.MaxBytes+1))
	if err != nil {
		return classifyS3(s3Get, err)
	}
	p.s3OK.Store(true)
	j.data, j.etag, j.size = data, strings.Trim(info.ETag, `"`), info.Size
	return nil
}

// noteS3 passes a classified S3 error through; a transient one asks the prober to check S3 now, so that
// readiness follows the dependency's health (its probe), never one item's failures.
func (p *Pipeline) noteS3(err error) error {
	if err != nil && isTransient(err) {
		select {
		case p.probeNow <- struct{}{}:
		default:
		}
	}
	return err
}

// decode pre-processes one image; undecodable or oversized images are dead-lettered.
func (p *Pipeline) decode(ctx context.Context, j *job) bool {
	size := p.currentImageSize()
	prep, err := inference.Prepare(j.data, size,
		imaging.DecodeOptions{Limits: p.cfg.Limits, IgnoreOrientation: p.cfg.IgnoreOrientation})
	j.data = nil
	if err != nil {
		class := producer.ClassBadImage
		if errors.Is(err, imaging.ErrTooLarge) || errors.Is(err, imaging.ErrTooManyPixels) {
			class = producer.ClassTooLarge
		}
		p.failJob(ctx, j, class, err)
		return false
	}
	prep.Image = nil // Only the tensor and the size travel on: the decoded photo would stay in memory until written.
	j.prepared = prep
	j.decoded = time.Now()
	p.metrics.stageSeconds.WithLabelValues("decode").Observe(j.decoded.Sub(j.fetched).Seconds())
	return true
}

func (p *Pipeline) currentImageSize() int {
	if c, ok := p.modelCfg.Load().(model.Config); ok {
		return c.ImageSize
	}
	return 128
}

// infer runs batches through the model, swapping in a new model version between batches.
func (p *Pipeline) infer(ctx context.Context, in <-chan []*job, out chan<- *job) {
	defer close(out)
	for {
		var batch []*job
		select {
		case m := <-p.swaps: // Idle: swap right away.
			p.swap(m)
			continue
		case b, ok := <-in:
			if !ok {
				return
			}
			batch = b
		}
		select {
		case m := <-p.swaps: // A new version is ready: it serves from this batch on.
			p.swap(m)
		default:
		}
		m := p.model
		start := time.Now()
		prepared := make([]*inference.Prepared, len(batch))
		for i, j := range batch {
			prepared[i] = j.prepared
		}
		span := p.traceBatch(ctx, batch, m, start)
		results, err := m.sess.Segment(ctx, prepared)
		endBatch(span, err)
		if err != nil {
			for _, j := range batch {
				if ctx.Err() == nil {
					p.failJob(ctx, j, producer.ClassInternal, fmt.Errorf("inference: %w", err))
				}
			}
			continue
		}
		now := time.Now()
		p.metrics.batchSize.Observe(float64(len(batch)))
		for i, j := range batch {
			j.result, j.model, j.batched, j.inferred = results[i], m, start, now
			j.prepared.Tensor = nil
			p.metrics.stageSeconds.WithLabelValues("queue").Observe(start.Sub(j.decoded).Seconds())
			p.metrics.stageSeconds.WithLabelValues("infer").Observe(now.Sub(start).Seconds())
			select {
			case out <- j:
			case <-ctx.Done():
			}
		}
	}
}

// swap replaces the model in use; it runs on the inference goroutine, between batches.
func (p *Pipeline) swap(m *servingModel) {
	old := p.model
	p.setModel(m)
	if err := old.sess.Close(); err != nil {
		p.log.Warn("closing the previous model", zap.Error(err))
	}
	p.log.Info("model swapped", zap.String("from", old.version), zap.String("to", m.version))
}

func (p *Pipeline) setModel(m *servingModel) {
	if p.model != nil {
		old := p.model
		p.metrics.modelInfo.DeleteLabelValues(old.name, old.version, old.sess.Provider())
	}
	p.model = m
	p.modelCfg.Store(m.sess.Config())
	p.modelVer.Store(m.version)
	p.modelReady.Store(true)
	p.metrics.modelInfo.WithLabelValues(m.name, m.version, m.sess.Provider()).Set(1)
}

// write stores the mask PNG and then produces the result event; only then is the reference finished.
func (p *Pipeline) write(ctx context.Context, j *job) bool {
	var buf bytes.Buffer
	if err := p.masks.Encode(&buf, j.result.Mask); err != nil {
		p.failJob(ctx, j, producer.ClassInternal, fmt.Errorf("encode mask: %w", err))
		return false
	}
	bucket := p.cfg.OutputBucket
	if bucket == "" {
		bucket = j.ref.Bucket
	}
	mask := MaskKey(p.cfg.OutputPrefix, j.ref.Key, j.etag, j.model.version)
	err := p.policy("s3_put", &p.ops.s3Put, p.s3OK.Load, isTransient, 0).do(ctx, func() error {
		_, err := p.deps.S3.PutObject(ctx, bucket, mask.Key, bytes.NewReader(buf.Bytes()), int64(buf.Len()),
			minio.PutObjectOptions{ContentType: "image/png", UserMetadata: map[string]string{
				"vitseg-source": j.ref.Bucket + "/" + j.ref.Key, "vitseg-source-key-sha256": mask.SourceKeyHash,
				"vitseg-source-etag": j.etag, "vitseg-model-version": j.model.version,
				"vitseg-mask-key-form": string(mask.Form)}})
		return p.noteS3(classifyS3(s3Put, err))
	})
	if err != nil {
		var pe errPermanent
		if errors.As(err, &pe) {
			p.failJob(ctx, j, pe.class, fmt.Errorf("write mask s3://%s/%s: %w", bucket, mask.Key, err))
		}
		return false
	}
	written := time.Now()
	p.metrics.stageSeconds.WithLabelValues("write").Observe(written.Sub(j.inferred).Seconds())

	st := j.result.Stats
	frac := func(c int) float64 {
		if c < len(st.Fractions) {
			return st.Fractions[c]
		}
		return 0
	}
	src := producer.Source{Bucket: j.ref.Bucket, Key: j.ref.Key, ETag: j.etag, Size: j.size}
	mref := producer.ModelRef{Name: j.model.name, Version: j.model.version}
	ev := producer.ResultEvent{
		SchemaVersion: producer.SchemaVersion, EventID: producer.ResultEventID(src, mref), Source: src,
		Mask:           producer.MaskRef{Bucket: bucket, Key: mask.Key, KeyForm: mask.Form},
		Model:          mref,
		Image:          producer.ImageSize{Width: j.prepared.Width, Height: j.prepared.Height, Orientation: int(j.prepared.Orientation)},
		ClassFractions: producer.ClassFractions{Pet: frac(model.ClassPet), Background: frac(model.ClassBackground), Border: frac(model.ClassBorder)},
		TimingsMS: producer.Timings{Queue: producer.Millis(j.batched.Sub(j.decoded)),
			Fetch: producer.Millis(j.fetched.Sub(j.received)), Decode: producer.Millis(j.decoded.Sub(j.fetched)),
			Infer: producer.Millis(j.inferred.Sub(j.batched)), Total: producer.Millis(written.Sub(j.received))},
		ProcessedAt: written.UTC(),
	}
	if st.PetBBox != nil {
		ev.PetBBox = &producer.BBox{X0: st.PetBBox.X0, Y0: st.PetBBox.Y0, X1: st.PetBBox.X1, Y1: st.PetBBox.Y1}
	}
	err = p.policy("kafka_produce_result", &p.ops.produceResult, p.kafkaOK.Load, isTransient, 0).do(ctx, func() error {
		err := p.deps.Writer.PublishResults(ctx, ev)
		if tooLarge(err) {
			return errPermanent{producer.ClassInternal, err} // Over the result topic's message limit.
		}
		return err
	})
	if err != nil {
		var pe errPermanent
		if errors.As(err, &pe) {
			p.failJob(ctx, j, pe.class, fmt.Errorf("result event: %w", err))
		} else {
			p.log.Warn("result event abandoned at shutdown; the message stays uncommitted", zap.Error(err))
		}
		return false
	}
	p.metrics.processed.Inc()
	p.metrics.stageSeconds.WithLabelValues("total").Observe(time.Since(j.received).Seconds())
	p.finishJob(j)
	return true
}

// commitLoop commits the watermark periodically until stop is closed.
func (p *Pipeline) commitLoop(stop <-chan struct{}) {
	t := time.NewTicker(p.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := p.deps.Reader.CommitWatermark(ctx, p.wm)
		cancel()
		if err != nil {
			p.metrics.commitFailures.Inc()
			p.kafkaOK.Store(false)
			p.log.Warn("commit failed; will retry", zap.Error(err))
		}
		p.metrics.inFlight.Set(float64(p.wm.InFlight()))
	}
}
