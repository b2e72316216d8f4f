package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model/imaging"
)

// Pipeline is one running stream processor.
type Pipeline struct {
	cfg      Config
	deps     Deps
	log      *zap.Logger
	metrics  *metrics
	wm       *consumer.Watermark
	loader   *modelLoader
	swaps    chan *servingModel
	model    *servingModel                // owned by the inference goroutine
	serving  atomic.Pointer[servingModel] // the same, for the feedback stage (through its lease)
	tracer   trace.Tracer
	masks    imaging.MaskEncoder
	filter   *consumer.Filter // skips references outside cfg.Allow and the pipeline's own masks
	retry    retryPolicies
	batching *latencyPolicy // the batch limits: the fixed window, or a latency target

	modelReady atomic.Bool
	s3OK       atomic.Bool
	kafkaOK    atomic.Bool
	modelVer   atomic.Value // string: the version in use
	modelCfg   atomic.Value // model.Config of the model in use
	ops        operations
	probeNow   chan struct{} // asks the prober for an S3 check now

	lifecycle    *lifecycleRun                // nil: no shadow evaluation (lifecycle.go)
	live         *liveTally                   // the live figures the lifecycle merges; nil when it is off
	shadow       atomic.Pointer[shadowRunner] // the candidate being evaluated, if any
	shadowCredit float64                      // sampling at the shadow fraction; owned by the inference goroutine
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
	if deps.Store == nil {
		missing = append(missing, "Store")
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
	cfg = cfg.withDefaults()
	if err := events.CheckMaskPrefix(cfg.OutputPrefix); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	filter, err := consumer.NewFilter(cfg.Allow, cfg.OutputBucket, cfg.OutputPrefix)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	m := newMetrics()
	p := &Pipeline{cfg: cfg, deps: deps, filter: filter, log: deps.Logger, metrics: m, wm: consumer.NewWatermark(),
		swaps: make(chan *servingModel, 1), probeNow: make(chan struct{}, 1)}
	p.retry = p.newRetryPolicies()
	p.batching = newLatencyPolicy(cfg.LatencyTarget, cfg.MaxBatch, cfg.MaxWait)
	p.tracer = newTracer(deps.Tracing)
	p.deps.Writer = tracedWriter{Writer: deps.Writer, tracer: p.tracer}
	p.loader = &modelLoader{runtime: deps.Runtime, opts: deps.Session, log: deps.Logger, metrics: m}
	p.modelVer.Store("")
	if p.lifecycle, err = p.newLifecycle(); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if p.lifecycle != nil {
		p.live = newLiveTally()
	}
	return p, nil
}
