package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/lifecycle"
	"github.com/vitseg/vitseg/model/registry"
)

// LifecycleConfig configures the model lifecycle of a pipeline that follows a registry: shadow evaluation of
// the registry's candidate, automatic promotion or rejection, and automatic rollback (docs/ARCHITECTURE.md,
// *Model lifecycle*). A zero ShadowFraction turns it all off.
type LifecycleConfig struct {
	// ShadowFraction is the fraction of live images (0..1) also segmented by the candidate.
	ShadowFraction float64
	// ShadowQueue bounds the samples waiting for the candidate; more are dropped (default 2 x MaxBatch).
	ShadowQueue int
	// ShadowCPUShare bounds the candidate's inference time to this many seconds per second of wall-clock time
	// (a share of one core); samples beyond it are dropped and counted. 0: no bound.
	ShadowCPUShare float64
	// Interval is how often candidate.json is read and the figures are merged into the registry and judged
	// (default: the model source's PollInterval).
	Interval time.Duration
	// Policy promotes or rejects the candidate; Rollback takes back a version it promoted.
	Policy   lifecycle.Policy
	Rollback lifecycle.RollbackPolicy
	// LabelsPrefix, "bucket" or "bucket/prefix", is the root of a labeled dataset in the Oxford-IIIT Pet layout
	// (the one the training CronJob reads): a reference to a trimap under PREFIX/annotations/trimaps/ is
	// labeled feedback for the photo under PREFIX/images/, scored by the feedback stage (feedback.go) instead
	// of segmented. Empty: no feedback stage.
	LabelsPrefix string
}

// DefaultLifecycle returns the lifecycle defaults, with shadow evaluation off.
func DefaultLifecycle() LifecycleConfig {
	return LifecycleConfig{
		ShadowCPUShare: 0.05,
		Policy:         lifecycle.Policy{MinImages: 200, MinAgreement: 0.9, AccuracyTolerance: 0.01, LatencyFactor: 1.5},
		Rollback: lifecycle.RollbackPolicy{Window: 30 * time.Minute, MinImages: 200, MaxDeadLetterIncrease: 0.02,
			LatencyFactor: 1.5, MinLabeled: 20, MaxAccuracyDrop: 0.02},
	}
}

// LifecycleRegistry is the part of the registry the lifecycle uses (*registry.Registry). A ModelSource whose
// Registry also implements it gets the lifecycle when Config.Lifecycle.ShadowFraction > 0.
type LifecycleRegistry interface {
	ModelRegistry
	Candidate(ctx context.Context) (registry.CandidatePointer, error)
	Get(ctx context.Context, version string) (registry.VersionMetadata, error)
	Shadow(ctx context.Context, version string) (registry.ShadowSummary, error)
	UpdateShadow(ctx context.Context, version string, fn func(s *registry.ShadowSummary, exists bool) (bool, error)) (registry.ShadowSummary, error)
	Resolve(ctx context.Context, d registry.Decision) (bool, error)
	RollbackFrom(ctx context.Context, version string) (registry.Pointer, bool, error)
	MarkRolledBack(ctx context.Context, version, reason string) error
	IsScored(ctx context.Context, bucket, key, etag string) (bool, error)
	MarkScored(ctx context.Context, l registry.ScoredLabel) (bool, error)
}

// lifecycleRun is the lifecycle of one Run: it follows candidate.json, runs the candidate in a shadowRunner,
// merges this replica's figures into the registry and acts on the policies' verdicts.
type lifecycleRun struct {
	p       *Pipeline
	reg     LifecycleRegistry
	cfg     LifecycleConfig
	log     *zap.Logger
	runner  *shadowRunner // the candidate being evaluated; nil when none
	labels  *labelRoute   // the labeled dataset's trimaps; nil without a feedback stage
	base    string        // the version it is compared with
	refused string        // a candidate that cannot be loaded, not tried again until the pointer moves
}

// newLifecycle returns the lifecycle of p, or nil when it is off; a labels prefix without the lifecycle, or
// an invalid one, is an error.
func (p *Pipeline) newLifecycle() (*lifecycleRun, error) {
	cfg := p.cfg.Lifecycle
	reg, ok := p.deps.Models.Registry.(LifecycleRegistry)
	if cfg.Interval <= 0 {
		cfg.Interval = p.deps.Models.PollInterval
	}
	if cfg.ShadowFraction <= 0 || !ok || p.deps.Models.File != "" || cfg.Interval <= 0 {
		if cfg.LabelsPrefix != "" {
			return nil, errors.New("labeled feedback needs the model lifecycle: a registry and a shadow fraction above 0")
		}
		return nil, nil
	}
	orDefault(&cfg.ShadowQueue, 2*p.cfg.MaxBatch)
	l := &lifecycleRun{p: p, reg: reg, cfg: cfg, log: p.log.With(zap.String("component", "lifecycle"))}
	if cfg.LabelsPrefix != "" {
		route, err := parseLabelRoute(cfg.LabelsPrefix)
		if err != nil {
			return nil, err
		}
		l.labels = &route
	}
	return l, nil
}

// run ticks every Interval until ctx ends, then stops the candidate.
func (l *lifecycleRun) run(ctx context.Context) {
	defer l.stopRunner()
	t := time.NewTicker(l.cfg.Interval)
	defer t.Stop()
	for {
		l.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick follows candidate.json, then merges and judges the figures of the candidate and of a version in its
// rollback window.
func (l *lifecycleRun) tick(ctx context.Context) {
	live := l.p.live.take()
	c, err := l.reg.Candidate(ctx)
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("reading the candidate", zap.Error(err))
		}
		return
	}
	l.follow(ctx, c)
	if l.runner != nil {
		l.flushShadow(ctx, live[l.base])
	}
	if serving, _ := l.p.modelVer.Load().(string); serving != "" {
		l.watchPromoted(ctx, serving, live[serving])
	}
}

// follow starts shadow evaluation of the candidate c names, after stopping that of another one.
func (l *lifecycleRun) follow(ctx context.Context, c registry.CandidatePointer) {
	if l.runner != nil && l.runner.model.version == c.Version {
		return
	}
	l.stopRunner()
	if c.Version == "" || c.Version == l.refused {
		return
	}
	m, err := l.load(ctx, c.Version)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		l.p.metrics.shadowLoads.WithLabelValues(shadowFailed).Inc()
		l.log.Error("candidate not loaded; serving is not affected", zap.String("candidate", c.Version), zap.Error(err))
		if errors.Is(err, registry.ErrRefused) {
			l.refused = c.Version
		}
		return
	}
	l.p.metrics.shadowLoads.WithLabelValues(shadowLoaded).Inc()
	l.log.Info("shadow evaluation started", zap.String("candidate", c.Version), zap.String("base", c.Base),
		zap.Float64("fraction", l.cfg.ShadowFraction))
	l.runner = startShadow(ctx, m, l.cfg.ShadowQueue, l.p.cfg.MaxBatch, l.cfg.ShadowCPUShare, l.p.metrics, l.log)
	l.base = c.Base
	l.p.shadow.Store(l.runner)
}

// load loads a candidate (with the serving model's session options) that takes the serving input size.
func (l *lifecycleRun) load(ctx context.Context, version string) (*servingModel, error) {
	m, err := l.p.loader.fromRegistry(ctx, l.reg, version)
	if err != nil {
		return nil, err
	}
	if got, want := m.sess.Config().ImageSize, l.p.currentImageSize(); got != want {
		m.close() //nolint:errcheck // Refused.
		return nil, registry.Refuse(fmt.Errorf("candidate %s takes %dx%d images, the serving model %dx%d: it cannot share their input",
			version, got, got, want, want))
	}
	return m, nil
}

func (l *lifecycleRun) stopRunner() {
	if l.runner == nil {
		return
	}
	l.p.shadow.Store(nil)
	l.runner.close()
	l.log.Info("shadow evaluation stopped", zap.String("candidate", l.runner.model.version))
	l.runner = nil
}

// offerShadow offers a finished live job to the candidate, if any, at the shadow fraction; it runs on the
// inference goroutine (which owns shadowCredit) and never blocks.
func (p *Pipeline) offerShadow(j *job) {
	r := p.shadow.Load()
	if r == nil {
		return
	}
	p.shadowCredit += p.cfg.Lifecycle.ShadowFraction
	if p.shadowCredit < 1 {
		return
	}
	p.shadowCredit--
	r.offer(shadowSample{prepared: inference.Prepared{Width: j.prepared.Width, Height: j.prepared.Height,
		Tensor: j.prepared.Tensor}, live: j.result.Mask.Base})
}
