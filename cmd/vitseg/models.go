package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/training"
)

// registryFlags locate the model registry.
type registryFlags struct {
	bucket    string
	name      string
	metric    string
	tolerance float64
	force     bool
}

// registerLocation adds --registry-bucket (with the command's usage) and --model-name.
func (r *registryFlags) registerLocation(fs *flag.FlagSet, bucketUsage string) {
	fs.StringVar(&r.bucket, "registry-bucket", "", bucketUsage)
	fs.StringVar(&r.name, "model-name", "vitseg", "model name (in the registry and in the model's metadata)")
}

// register adds the location and the quality gate flags of publishing.
func (r *registryFlags) register(fs *flag.FlagSet) {
	r.registerLocation(fs, "bucket of the model registry (models/NAME/...); empty: do not publish")
	fs.StringVar(&r.metric, "gate-metric", registry.DefaultGateMetric, "quality gate metric (higher is better)")
	fs.Float64Var(&r.tolerance, "gate-tolerance", 0.002, "publish when the new metric >= current - tolerance")
	fs.BoolVar(&r.force, "force", false, "publish even if the quality gate refuses")
}

func (r *registryFlags) open(s3 objstore.Config, log *zap.Logger) (*registry.Registry, error) {
	if r.bucket == "" {
		return nil, usagef("--registry-bucket is required")
	}
	client, err := objstore.New(s3)
	if err != nil {
		return nil, err
	}
	return registry.New(client, r.bucket, r.name, registry.WithLogger(log)), nil
}

// evalSplitID names an evaluation split by its content, so that the quality gate only compares metrics measured
// on the same images.
func evalSplitID(split string, examples []training.Example) string {
	names := make([]string, len(examples))
	for i, ex := range examples {
		names[i] = ex.Name
	}
	sort.Strings(names)
	sum := sha256.Sum256([]byte(strings.Join(names, "\n")))
	return split + "@" + hex.EncodeToString(sum[:6])
}

// publishRun uploads a trained model through the quality gate. The current version, if any, is re-evaluated on
// the same split first, so the gate compares both models on the same images even when the data has grown.
func publishRun(ctx context.Context, reg *registry.Registry, rf registryFlags, rt *inference.Runtime, log *zap.Logger,
	onnxBytes []byte, meta model.Metadata, summary runSummary, evalExamples []training.Example, reportDir string,
) (registry.PublishResult, error) {
	split := evalSplitID(summary.EvalSplit, evalExamples)
	dataset, err := json.Marshal(summary.Dataset)
	if err != nil {
		return registry.PublishResult{}, fmt.Errorf("encode dataset manifest: %w", err)
	}
	gate := registry.Gate{Metric: rf.metric, Tolerance: rf.tolerance}
	cur, err := reg.Current(ctx)
	switch {
	case errors.Is(err, registry.ErrNoCurrent):
	case err != nil:
		return registry.PublishResult{}, err
	default:
		baseline, err := reevaluate(ctx, reg, rt, cur.Version, evalExamples)
		if err != nil {
			return registry.PublishResult{}, fmt.Errorf("re-evaluate current version %s: %w", cur.Version, err)
		}
		gate.Baseline = &registry.Baseline{Version: cur.Version, Metrics: baseline.Map()}
		log.Info("current version re-evaluated on the new evaluation split", zap.String("version", cur.Version),
			zap.String("split", split), zap.Any("metrics", gate.Baseline.Metrics))
	}
	res, err := reg.Publish(ctx, onnxBytes, registry.VersionMetadata{
		Model: meta, Metrics: meta.Metrics, EvalSplit: split, Dataset: dataset, CodeVersion: version,
	}, registry.PublishOptions{ReportDir: reportDir, Gate: gate, Force: rf.force})
	if err != nil {
		return res, err
	}
	log.Info("registry", zap.String("version", res.Version), zap.Bool("published", res.Published),
		zap.Bool("forced", res.Forced), zap.String("reason", res.Reason))
	return res, nil
}

func reevaluate(ctx context.Context, reg *registry.Registry, rt *inference.Runtime, version string, examples []training.Example) (training.Metrics, error) {
	b, err := reg.Model(ctx, version)
	if err != nil {
		return training.Metrics{}, err
	}
	sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		return training.Metrics{}, err
	}
	defer sess.Close()
	return training.EvaluateSession(ctx, sess, examples, 16)
}

func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("usage: vitseg models list | publish FILE.onnx | promote VERSION | rollback [flags]")
	}
	sub := args[0]
	fs := newFlagSet("models "+sub, "models list|publish FILE.onnx|promote VERSION|rollback [flags]", stderr)
	var rf registryFlags
	var s3 objstore.Config
	var lf logFlags
	rf.register(fs)
	s3.RegisterFlags(fs)
	lf.register(fs, "console")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	reg, err := rf.open(s3, log)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		return listModels(ctx, reg, stdout)
	case "promote":
		if fs.NArg() != 1 {
			return usagef("usage: vitseg models promote VERSION")
		}
		p, err := reg.Promote(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "current version: %s (previous %s)\n", p.Version, p.Previous)
		return err
	case "publish":
		if fs.NArg() != 1 {
			return usagef("usage: vitseg models publish FILE.onnx")
		}
		return publishFile(ctx, reg, rf, fs.Arg(0), stdout)
	case "rollback":
		p, err := reg.Rollback(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "rolled back: current version %s\n", p.Version)
		return err
	}
	return usagef("unknown models command %q (want list, promote or rollback)", sub)
}

func listModels(ctx context.Context, reg *registry.Registry, stdout io.Writer) error {
	versions, err := reg.List(ctx)
	if err != nil {
		return err
	}
	cur, err := reg.Current(ctx)
	if err != nil && !errors.Is(err, registry.ErrNoCurrent) {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATUS\tCURRENT\tPIXEL_ACC\tMEAN_IOU\tSPLIT\tCREATED\tREASON")
	for _, v := range versions {
		mark := ""
		if v.Version == cur.Version {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f\t%.4f\t%s\t%s\t%s\n", v.Version, v.Status, mark,
			v.Metrics["pixel_accuracy"], v.Metrics["mean_iou"], v.EvalSplit, v.CreatedAt.Format(time.RFC3339), v.Reason)
	}
	return tw.Flush()
}

// publishFile imports an exported model file into the registry through the quality gate, with the metrics
// stored in the file. Its evaluation split is unknown to the registry, so against an existing current version
// the gate refuses it unless --force.
func publishFile(ctx context.Context, reg *registry.Registry, rf registryFlags, path string, stdout io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read model: %w", err)
	}
	meta, err := model.ReadMetadata(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	res, err := reg.Publish(ctx, b, registry.VersionMetadata{Model: meta, Metrics: meta.Metrics,
		EvalSplit: "file:" + meta.Name + "@" + meta.Version, CodeVersion: meta.CodeVersion},
		registry.PublishOptions{Gate: registry.Gate{Metric: rf.metric, Tolerance: rf.tolerance}, Force: rf.force})
	if err != nil {
		return err
	}
	verdict := "published (now current)"
	if !res.Published {
		verdict = "rejected"
	}
	_, err = fmt.Fprintf(stdout, "version %s %s: %s\n", res.Version, verdict, res.Reason)
	return err
}
