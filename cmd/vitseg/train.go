package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/atomicfile"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/network"
	"github.com/vitseg/vitseg/training"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseTrainFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := requireONNXExport("train"); err != nil {
		return err
	}
	log, err := f.lf.logger(stderr)
	if err != nil {
		return err
	}
	cfg, recipe, err := f.plan()
	if err != nil {
		return err
	}
	runtime, err := f.rt.open()
	if err != nil {
		return err
	}
	backendName, err := f.dev.gomlxBackend(ctx, runtime, f.backend, log)
	if err != nil {
		return err
	}
	if err := f.prepareOutput(); err != nil {
		return err
	}
	started := time.Now()
	ds, err := f.data.load(ctx, cfg.ImageSize, log)
	if err != nil {
		return err
	}
	semi, err := f.unlabeled.plan(ctx, f.data, f.reg, ds, runtime, recipe, cfg, log)
	if err != nil {
		return err
	}
	defer semi.release()
	run := &trainRun{f: f, log: log, cfg: cfg, recipe: recipe, runtime: runtime, backendName: backendName, ds: ds,
		semi: semi, started: started}
	return run.execute(ctx, stdout)
}

// trainRun is one run of vitseg train, from the loaded dataset to the published model.
type trainRun struct {
	f           *trainFlags
	log         *zap.Logger
	cfg         model.Config
	recipe      training.Recipe
	runtime     *inference.Runtime
	backendName string
	ds          *training.Dataset
	semi        semiPlan
	started     time.Time // before the dataset was loaded
}

// execute trains, exports and evaluates the model, writes the outputs and publishes the model when a registry is
// given.
func (r *trainRun) execute(ctx context.Context, stdout io.Writer) error {
	backend, err := compute.NewWithConfig(r.backendName)
	if err != nil {
		return fmt.Errorf("GoMLX backend %q: %w", r.backendName, err)
	}
	defer backend.Finalize()
	tr, report, err := r.fit(ctx, backend)
	if err != nil {
		return err
	}
	trainSeconds := time.Since(r.started).Seconds()

	// Export (always through GoMLX's ONNX Runtime backend, also when training ran on another backend), then
	// evaluate the exported model exactly as it will be served.
	exportBackend, release, err := r.exportBackend(backend, tr)
	if err != nil {
		return err
	}
	defer release()
	meta := model.Metadata{Name: r.f.reg.name, Version: "local", Preset: r.f.preset, CreatedAt: time.Now().UTC(), CodeVersion: version}
	onnxBytes, err := network.Export(exportBackend, tr.Net, tr.Store, meta)
	if err != nil {
		return err
	}
	results, evalSplit, err := r.evaluate(ctx, onnxBytes)
	if err != nil {
		return err
	}
	if onnxBytes, meta, err = recordMetrics(onnxBytes, results[evalSplit]); err != nil {
		return err
	}
	summary := runSummary{Preset: r.f.preset, Params: r.cfg.NumParams(), Recipe: r.recipe, Dataset: r.ds.Manifest,
		Skipped: r.ds.Skipped, History: report.History, Metrics: results, EvalSplit: evalSplit,
		TrainSeconds: trainSeconds, Backend: r.backendName, Seed: r.f.seed, Unlabeled: r.semi.summary}
	if err := writeRunOutputs(r.f.out, onnxBytes, summary, report); err != nil {
		return err
	}
	logEvaluation(r.log, results)
	if r.f.reg.bucket != "" {
		if err := r.publish(ctx, stdout, onnxBytes, meta, summary); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (%s); %s pixel accuracy %.4f, mean IoU %.4f\n",
		filepath.Join(r.f.out, "model.onnx"), time.Since(r.started).Round(time.Second), evalSplit,
		results[evalSplit].PixelAccuracy, results[evalSplit].MeanIoU)
	return err
}

// fit trains the model on backend; the report holds the first validation examples and their predictions after
// each epoch, and the history.
func (r *trainRun) fit(ctx context.Context, backend compute.Backend) (*training.Trainer, training.ReportData, error) {
	report := training.ReportData{Size: r.cfg.ImageSize}
	tr, err := training.NewTrainer(backend, r.cfg, r.recipe, r.log)
	if err != nil {
		return nil, report, err
	}
	tr.CheckpointDir = r.f.ckptDir
	tr.Semi = r.semi.semi
	val := r.ds.Splits[training.SplitVal]
	for _, ex := range val[:min(r.f.reportExamples, len(val))] {
		tr.Snapshot = append(tr.Snapshot, ex)
		report.Names = append(report.Names, ex.Name)
		report.Images = append(report.Images, ex.Image)
		report.Truth = append(report.Truth, ex.Mask)
	}
	tr.OnEpoch = func(_ training.EpochStats, preds [][]uint8) { report.Frames = append(report.Frames, preds) }
	r.log.Info("training", zap.String("preset", r.f.preset), zap.Int("params", r.cfg.NumParams()),
		zap.String("backend", r.backendName), zap.Any("recipe", r.recipe), zap.Any("splits", r.ds.Manifest.Splits))
	history, err := tr.Train(ctx, r.ds.Splits[training.SplitTrain], val, r.cfg.ImageSize)
	if err != nil {
		return nil, report, err
	}
	report.History = history
	return tr, report, nil
}

// exportBackend is the GoMLX ONNX Runtime backend to export tr's model with: the training backend itself when it
// is one, else a new onnx:cpu backend, which release finalizes, with the weights moved off the training backend.
func (r *trainRun) exportBackend(backend compute.Backend, tr *training.Trainer) (exportBackend compute.Backend, release func(), err error) {
	if strings.HasPrefix(r.backendName, "onnx") {
		return backend, func() {}, nil
	}
	if exportBackend, err = compute.NewWithConfig("onnx:cpu"); err != nil {
		return nil, nil, fmt.Errorf("GoMLX ONNX backend for export: %w", err)
	}
	// Detach the weights from the training backend so that the export backend can use them.
	for v := range tr.Store.IterVariables() {
		value, err := v.Value()
		if err != nil {
			exportBackend.Finalize()
			return nil, nil, fmt.Errorf("read variable %s: %w", v.Path(), err)
		}
		if err := value.ToLocal(); err != nil {
			exportBackend.Finalize()
			return nil, nil, fmt.Errorf("move variable %s off the training backend: %w", v.Path(), err)
		}
	}
	return exportBackend, exportBackend.Finalize, nil
}

// evaluate scores the exported model on the validation and test splits that have examples, as it will be served;
// evalSplit is the split that judges the model: validation, or test when there is no validation split.
func (r *trainRun) evaluate(ctx context.Context, onnxBytes []byte) (results map[string]training.Metrics, evalSplit string, err error) {
	sess, err := r.runtime.Load(onnxBytes, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		return nil, "", fmt.Errorf("load exported model: %w", err)
	}
	defer sess.Close()
	results = map[string]training.Metrics{}
	for _, split := range []string{training.SplitVal, training.SplitTest} {
		if exs := r.ds.Splits[split]; len(exs) > 0 {
			m, err := training.EvaluateSession(ctx, sess, exs, 16)
			if err != nil {
				return nil, "", err
			}
			results[split] = m
		}
	}
	evalSplit = training.SplitVal
	if _, ok := results[evalSplit]; !ok {
		evalSplit = training.SplitTest
	}
	return results, evalSplit, nil
}

// recordMetrics records m in the model file: a metadata edit, the graph and weights stay as evaluated.
func recordMetrics(onnxBytes []byte, m training.Metrics) ([]byte, model.Metadata, error) {
	meta, err := model.ReadMetadata(onnxBytes)
	if err != nil {
		return nil, meta, err
	}
	meta.Metrics = m.Map()
	onnxBytes, err = model.WriteMetadata(onnxBytes, meta)
	return onnxBytes, meta, err
}

// logEvaluation logs the metrics of each evaluated split.
func logEvaluation(log *zap.Logger, results map[string]training.Metrics) {
	for split, m := range results {
		log.Info("evaluation", zap.String("split", split), zap.Float64("pixel_accuracy", m.PixelAccuracy),
			zap.Float64("mean_iou", m.MeanIoU), zap.Float64("article_iou", m.ArticleIoU),
			zap.Float64("border_iou", m.BorderIoU), zap.Float64("boundary_f", m.BoundaryF))
	}
}

// publish offers the model to the registry's quality gate and prints its verdict.
func (r *trainRun) publish(ctx context.Context, stdout io.Writer, onnxBytes []byte, meta model.Metadata, summary runSummary) error {
	reg, err := r.f.reg.open(r.f.data.s3, r.log)
	if err != nil {
		return err
	}
	res, err := training.Publish(ctx, reg, r.runtime, training.Publication{ONNX: onnxBytes, Meta: meta,
		Split: summary.EvalSplit, Examples: r.ds.Splits[summary.EvalSplit], Dataset: summary.Dataset, CodeVersion: version,
		ReportDir: filepath.Join(r.f.out, "report"), Gate: r.f.reg.gate(), Force: r.f.reg.force}, r.log)
	if err != nil {
		return err
	}
	verdict := "published"
	if !res.Published {
		verdict = "rejected"
	}
	fmt.Fprintf(stdout, "registry: version %s %s: %s\n", res.Version, verdict, res.Reason)
	return nil
}

// runSummary is metrics.json of a training run.
type runSummary struct {
	Preset       string                      `json:"preset"`
	Params       int                         `json:"params"`
	Backend      string                      `json:"backend"`
	Seed         uint64                      `json:"seed"`
	Recipe       training.Recipe             `json:"recipe"`
	Dataset      training.Manifest           `json:"dataset"`
	Skipped      map[string]int              `json:"skipped"`
	History      []training.EpochStats       `json:"history"`
	Metrics      map[string]training.Metrics `json:"metrics"`
	EvalSplit    string                      `json:"eval_split"`
	TrainSeconds float64                     `json:"train_seconds"`
	Unlabeled    *unlabeledSummary           `json:"unlabeled,omitempty"` // semi-supervised: the photos used, the teacher
}

func writeRunOutputs(out string, onnxBytes []byte, summary runSummary, report training.ReportData) error {
	if err := atomicfile.WriteBytes(filepath.Join(out, "model.onnx"), onnxBytes, 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return fmt.Errorf("encode metrics: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(out, "metrics.json"), js, 0o644); err != nil {
		return err
	}
	if len(report.Frames) == 0 {
		return nil // Every epoch came from a checkpoint: there are no per-epoch predictions to show.
	}
	return training.WriteReport(filepath.Join(out, "report"), report)
}
