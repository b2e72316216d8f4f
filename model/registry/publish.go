package registry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model"
)

// DefaultGateMetric is the metric the quality gate compares when Gate.Metric is empty.
const DefaultGateMetric = "pixel_accuracy"

// Gate is the quality gate of Publish: a new version is published when its Metric is at least the current
// version's minus Tolerance, both measured on the same evaluation split. Metrics are higher-is-better.
type Gate struct {
	Metric    string  // default DefaultGateMetric
	Tolerance float64 // >= 0
	// Baseline, when set, holds the current version's metrics re-measured by the caller on the new version's
	// evaluation split. It is used instead of the current version's stored metrics when its Version is still
	// current at the time of the gate, so that models trained on a grown dataset are compared on the same
	// images. (If the pointer moved meanwhile, the stored metrics and their split are used.)
	Baseline *Baseline
}

// Baseline is a version's metrics re-measured on another evaluation split.
type Baseline struct {
	Version string
	Metrics map[string]float64
}

// PublishResult reports what Publish did.
type PublishResult struct {
	Version   string // the version uploaded, published or not
	Published bool   // current.json now names Version
	Forced    bool   // published only because of force
	Reason    string // the gate's verdict, also stored in metadata.json
	Metric    string // the gate metric
	Value     float64
	// CurrentVersion is the version the new one was compared with ("" when there was none).
	CurrentVersion string
	// CurrentValue is the current version's metric; valid when Comparable.
	CurrentValue float64
	// Comparable reports that both versions have the metric on the same evaluation split.
	Comparable bool
	// Candidate reports that the version passed the gate and was proposed as the candidate (candidate.json,
	// StatusShadow) instead of being made current; Published is then false.
	Candidate bool
}

// PublishOptions are the optional parts of a publish.
type PublishOptions struct {
	// ReportDir, when set, is a directory of training report files uploaded with the version.
	ReportDir string
	// Gate is the quality gate (zero: DefaultGateMetric, no tolerance).
	Gate Gate
	// Force publishes whatever the gate says, and without the gate metric.
	Force bool
	// Candidate proposes a version that passes the gate as the candidate (Propose) for serve's shadow
	// evaluation instead of making it current. Without a current version it is made current as usual.
	Candidate bool
}

// Publish uploads onnx as the next version and runs the quality gate against the current version: with no
// current version, or when meta.Metrics[opts.Gate.Metric] >= the current value - opts.Gate.Tolerance on the same
// meta.EvalSplit, the version is marked StatusPublished and made current; otherwise it is marked StatusRejected
// with the reason and current.json is left untouched. Metrics that are not comparable (different evaluation
// splits, or the metric missing on the current version) refuse the publish. opts.Force publishes in every case.
// A new version without the gate metric is an error (ErrMissingMetric, nothing uploaded) unless forced.
//
// If another publisher moves current.json between the gate and the pointer update, the gate runs again against
// the new current version.
func (r *Registry) Publish(ctx context.Context, onnx []byte, meta VersionMetadata, opts PublishOptions) (PublishResult, error) {
	gate, force := opts.Gate, opts.Force
	if gate.Metric == "" {
		gate.Metric = DefaultGateMetric
	}
	if gate.Tolerance < 0 || math.IsNaN(gate.Tolerance) || math.IsInf(gate.Tolerance, 0) {
		return PublishResult{}, fmt.Errorf("registry: gate tolerance %v must be a non-negative number", gate.Tolerance)
	}
	value, hasValue := meta.Metrics[gate.Metric]
	if !hasValue && !force {
		return PublishResult{}, fmt.Errorf("%w: metrics have no %q", ErrMissingMetric, gate.Metric)
	}
	meta, err := r.uploadNext(ctx, onnx, meta, opts.ReportDir)
	if err != nil {
		return PublishResult{}, err
	}
	var res PublishResult
	_, err = r.updatePointer(ctx, func(cur Pointer, exists bool) (Pointer, bool, error) {
		res = PublishResult{Version: meta.Version, Metric: gate.Metric, Value: value}
		meta.Parent = ""
		if exists {
			meta.Parent = cur.Version
			res.CurrentVersion = cur.Version
		}
		if err := r.judge(ctx, &res, meta, hasValue, exists, gate, force); err != nil {
			return Pointer{}, false, err
		}
		if res.Published && opts.Candidate && exists {
			res.Published, res.Candidate = false, true
		}
		meta.Status, meta.Reason = statusOf(res), res.Reason
		if err := r.putMetadata(ctx, meta); err != nil {
			return Pointer{}, false, err
		}
		if !res.Published {
			return cur, false, nil
		}
		return Pointer{Version: meta.Version, UpdatedAt: time.Now().UTC(), Previous: cur.Version}, true, nil
	})
	if err != nil {
		if meta.Status == StatusPublished {
			// The pointer did not move: do not leave a version marked published that never was.
			meta.Status, meta.Reason = StatusCandidate, "publish failed: "+err.Error()
			revertCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if rerr := r.putMetadata(revertCtx, meta); rerr != nil {
				r.log.Error("resetting status after failed publish", zap.String("version", meta.Version), zap.Error(rerr))
			}
		}
		return PublishResult{}, err
	}
	r.log.Info("publish", zap.String("version", res.Version), zap.Bool("published", res.Published),
		zap.Bool("candidate", res.Candidate), zap.Bool("forced", res.Forced), zap.String("reason", res.Reason))
	if res.Candidate {
		if _, err := r.Propose(ctx, res.Version); err != nil {
			return res, fmt.Errorf("registry: propose %s as the candidate: %w", res.Version, err)
		}
	}
	return res, nil
}

// statusOf is the status a publish gives its version.
func statusOf(res PublishResult) string {
	switch {
	case res.Candidate:
		return StatusShadow
	case res.Published:
		return StatusPublished
	}
	return StatusRejected
}

// uploadNext uploads to the next free version, skipping versions other uploaders claim first.
func (r *Registry) uploadNext(ctx context.Context, onnx []byte, meta VersionMetadata, reportDir string) (VersionMetadata, error) {
	for range r.maxAttempts {
		version, err := r.NextVersion(ctx)
		if err != nil {
			return meta, err
		}
		stored, err := r.upload(ctx, version, onnx, meta, reportDir)
		if errors.Is(err, ErrVersionExists) {
			r.log.Info("version taken concurrently, trying the next one", zap.String("version", version))
			continue
		}
		return stored, err
	}
	return meta, fmt.Errorf("%w: no free version after %d attempts", ErrConflict, r.maxAttempts)
}

// judge fills res.Published, Forced, Reason, CurrentValue and Comparable for meta against the current version
// res.CurrentVersion (none when !exists).
func (r *Registry) judge(ctx context.Context, res *PublishResult, meta VersionMetadata, hasValue, exists bool, gate Gate, force bool) error {
	if !exists {
		res.Published, res.Reason = true, "no current version to compare with"
		return nil
	}
	cur, err := r.Get(ctx, res.CurrentVersion)
	if err != nil {
		if !force {
			return fmt.Errorf("registry: reading current version for the gate: %w", err)
		}
		res.Published, res.Forced = true, true
		res.Reason = fmt.Sprintf("forced: current version %s unreadable: %v", res.CurrentVersion, err)
		return nil
	}
	curValue, curHas := cur.Metrics[gate.Metric]
	curSplit := cur.EvalSplit
	if b := gate.Baseline; b != nil && b.Version == cur.Version {
		curValue, curHas = b.Metrics[gate.Metric]
		curSplit = meta.EvalSplit
	}
	var problem string
	switch {
	case !hasValue:
		problem = fmt.Sprintf("new version has no %s", gate.Metric)
	case meta.EvalSplit != curSplit:
		problem = fmt.Sprintf("evaluation splits differ (new %q, current %s %q): %s not comparable",
			meta.EvalSplit, cur.Version, cur.EvalSplit, gate.Metric)
	case !curHas:
		problem = fmt.Sprintf("current version %s has no %s", cur.Version, gate.Metric)
	}
	if problem != "" {
		if force {
			res.Published, res.Forced, res.Reason = true, true, "forced: "+problem
		} else {
			res.Reason = "refused: " + problem
		}
		return nil
	}
	res.Comparable, res.CurrentValue = true, curValue
	threshold := curValue - gate.Tolerance
	if res.Value >= threshold {
		res.Published = true
		res.Reason = fmt.Sprintf("%s %.6f >= %.6f (current %s %.6f - tolerance %.6f) on split %q",
			gate.Metric, res.Value, threshold, cur.Version, curValue, gate.Tolerance, meta.EvalSplit)
		return nil
	}
	res.Reason = fmt.Sprintf("%s %.6f < %.6f (current %s %.6f - tolerance %.6f) on split %q",
		gate.Metric, res.Value, threshold, cur.Version, curValue, gate.Tolerance, meta.EvalSplit)
	if force {
		res.Published, res.Forced, res.Reason = true, true, "forced: "+res.Reason
	}
	return nil
}

// PublishONNX publishes an exported model file through the quality gate with the metrics stored in its own
// metadata. Their evaluation split ("file:NAME@VERSION") is unknown to the registry, so against an existing
// current version the gate refuses the file unless opts.Force.
func (r *Registry) PublishONNX(ctx context.Context, onnx []byte, opts PublishOptions) (PublishResult, error) {
	meta, err := model.ReadMetadata(onnx)
	if err != nil {
		return PublishResult{}, err
	}
	return r.Publish(ctx, onnx, VersionMetadata{Model: meta, Metrics: meta.Metrics,
		EvalSplit: "file:" + meta.Name + "@" + meta.Version, CodeVersion: meta.CodeVersion}, opts)
}
