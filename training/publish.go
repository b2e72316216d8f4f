package training

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/registry"
)

// Publication is a trained model to publish through the registry's quality gate.
type Publication struct {
	// ONNX is the exported model; Meta its embedded metadata, whose Metrics were measured on Examples.
	ONNX []byte
	Meta model.Metadata
	// Split names the evaluation split ("val", "test"); Examples are its examples.
	Split    string
	Examples []Example
	// Dataset is the training data's manifest, stored with the version.
	Dataset any
	// CodeVersion is the version of the code that trained the model.
	CodeVersion string
	// ReportDir, when set, is a folder of report files uploaded with the version.
	ReportDir string
	// Gate is the quality gate; Force publishes whatever it says.
	Gate  registry.Gate
	Force bool
	// Candidate proposes a version that passes the gate as the registry's candidate, for serve's shadow
	// evaluation, instead of making it current (registry.PublishOptions.Candidate).
	Candidate bool
}

// Publish uploads p as the registry's next version through the quality gate. The current version, if any, is
// first re-evaluated on p's examples (on the CPU of rt), so the gate compares both models on the same images
// even when the dataset has grown since the current version was trained.
func Publish(ctx context.Context, reg *registry.Registry, rt *inference.Runtime, p Publication, log *zap.Logger) (registry.PublishResult, error) {
	split := EvalSplitID(p.Split, p.Examples)
	dataset, err := json.Marshal(p.Dataset)
	if err != nil {
		return registry.PublishResult{}, fmt.Errorf("training: encode dataset manifest: %w", err)
	}
	gate := p.Gate
	cur, err := reg.Current(ctx)
	switch {
	case errors.Is(err, registry.ErrNoCurrent):
	case err != nil:
		return registry.PublishResult{}, err
	default:
		baseline, err := evaluateVersion(ctx, reg, rt, cur.Version, p.Examples)
		if err != nil {
			return registry.PublishResult{}, fmt.Errorf("training: re-evaluate current version %s: %w", cur.Version, err)
		}
		gate.Baseline = &registry.Baseline{Version: cur.Version, Metrics: baseline.Map()}
		log.Info("current version re-evaluated on the new evaluation split", zap.String("version", cur.Version),
			zap.String("split", split), zap.Any("metrics", gate.Baseline.Metrics))
	}
	res, err := reg.Publish(ctx, p.ONNX, registry.VersionMetadata{
		Model: p.Meta, Metrics: p.Meta.Metrics, EvalSplit: split, Dataset: dataset, CodeVersion: p.CodeVersion,
	}, registry.PublishOptions{ReportDir: p.ReportDir, Gate: gate, Force: p.Force, Candidate: p.Candidate})
	if err != nil {
		return res, err
	}
	log.Info("registry", zap.String("version", res.Version), zap.Bool("published", res.Published),
		zap.Bool("candidate", res.Candidate), zap.Bool("forced", res.Forced), zap.String("reason", res.Reason))
	return res, nil
}

// EvalSplitID names an evaluation split by its content, so that the quality gate only compares metrics
// measured on the same images: the split's name, "@", and a hash of its sorted example names.
func EvalSplitID(split string, examples []Example) string {
	names := make([]string, len(examples))
	for i, ex := range examples {
		names[i] = ex.Name
	}
	sort.Strings(names)
	sum := sha256.Sum256([]byte(strings.Join(names, "\n")))
	return split + "@" + hex.EncodeToString(sum[:6])
}

// evaluateVersion evaluates a registry version on examples, on the CPU.
func evaluateVersion(ctx context.Context, reg *registry.Registry, rt *inference.Runtime, version string, examples []Example) (Metrics, error) {
	b, err := reg.Model(ctx, version)
	if err != nil {
		return Metrics{}, err
	}
	sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		return Metrics{}, err
	}
	defer sess.Close()
	return EvaluateSession(ctx, sess, examples, 16)
}
