package training

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/atomicfile"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/network"
)

// Files a training run writes to its output folder.
const (
	RunModelFile   = "model.onnx"
	RunMetricsFile = "metrics.json" // the run's Summary
	RunReportDir   = "report"       // WriteReport's files, when an epoch ran
)

// RunConfig is one training run: what `vitseg train` and the CronJob run, from a loaded dataset to an exported,
// evaluated model in a folder.
type RunConfig struct {
	// Preset names Model; Recipe is how it is trained; Seed is recorded in the summary.
	Preset string
	Model  model.Config
	Recipe Recipe
	Seed   uint64
	// Dataset holds the splits: the model trains on SplitTrain and is judged on SplitVal (SplitTest without one).
	Dataset *Dataset
	// Backend is the GoMLX backend configuration to train on (e.g. "onnx:cpu"); the model is always exported
	// through GoMLX's ONNX Runtime backend.
	Backend string
	// Runtime evaluates the exported model, on the CPU, as it will be served.
	Runtime *inference.Runtime
	// Semi, when set, adds pseudo-labeled photos; Unlabeled is what the summary records of them.
	Semi      *SemiSupervised
	Unlabeled *UnlabeledSummary
	// CheckpointDir, when set, keeps checkpoints to resume from.
	CheckpointDir string
	// ReportExamples is how many validation photos the report shows.
	ReportExamples int
	// ModelName and CodeVersion go into the model's metadata.
	ModelName, CodeVersion string
	// Out is the folder the run writes RunModelFile, RunMetricsFile and RunReportDir to.
	Out string
	// Started is when the run began (before the dataset was loaded): TrainSeconds counts from it.
	Started time.Time
	Logger  *zap.Logger
}

// Summary is a training run's RunMetricsFile.
type Summary struct {
	Preset       string             `json:"preset"`
	Params       int                `json:"params"`
	Backend      string             `json:"backend"`
	Seed         uint64             `json:"seed"`
	Recipe       Recipe             `json:"recipe"`
	Dataset      Manifest           `json:"dataset"`
	Skipped      map[string]int     `json:"skipped"`
	History      []EpochStats       `json:"history"`
	Metrics      map[string]Metrics `json:"metrics"`
	EvalSplit    string             `json:"eval_split"`
	TrainSeconds float64            `json:"train_seconds"`
	Unlabeled    *UnlabeledSummary  `json:"unlabeled,omitempty"` // semi-supervised: the photos used, the teacher
}

// RunResult is what a run produced: the exported model (its metrics recorded in its metadata) and the summary.
type RunResult struct {
	ONNX    []byte
	Meta    model.Metadata
	Summary Summary
}

// Run trains, exports and evaluates the model and writes the run's files to cfg.Out.
func Run(ctx context.Context, cfg RunConfig) (RunResult, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	backend, err := compute.NewWithConfig(cfg.Backend)
	if err != nil {
		return RunResult{}, fmt.Errorf("GoMLX backend %q: %w", cfg.Backend, err)
	}
	defer backend.Finalize()
	tr, report, err := fit(ctx, cfg, backend)
	if err != nil {
		return RunResult{}, err
	}
	trainSeconds := time.Since(cfg.Started).Seconds()

	// Export (always through GoMLX's ONNX Runtime backend, also when training ran on another backend), then
	// evaluate the exported model exactly as it will be served.
	exportBackend, release, err := exportBackendFor(cfg.Backend, backend, tr)
	if err != nil {
		return RunResult{}, err
	}
	defer release()
	meta := model.Metadata{Name: cfg.ModelName, Version: "local", Preset: cfg.Preset, CreatedAt: time.Now().UTC(), CodeVersion: cfg.CodeVersion}
	onnxBytes, err := network.Export(exportBackend, tr.Net, tr.Store, meta)
	if err != nil {
		return RunResult{}, err
	}
	results, evalSplit, err := evaluateExport(ctx, cfg, onnxBytes)
	if err != nil {
		return RunResult{}, err
	}
	if onnxBytes, meta, err = recordMetrics(onnxBytes, results[evalSplit]); err != nil {
		return RunResult{}, err
	}
	summary := Summary{Preset: cfg.Preset, Params: cfg.Model.NumParams(), Recipe: cfg.Recipe, Dataset: cfg.Dataset.Manifest,
		Skipped: cfg.Dataset.Skipped, History: report.History, Metrics: results, EvalSplit: evalSplit,
		TrainSeconds: trainSeconds, Backend: cfg.Backend, Seed: cfg.Seed, Unlabeled: cfg.Unlabeled}
	if err := writeRun(cfg.Out, onnxBytes, summary, report); err != nil {
		return RunResult{}, err
	}
	logEvaluation(cfg.Logger, results)
	return RunResult{ONNX: onnxBytes, Meta: meta, Summary: summary}, nil
}

// fit trains the model on backend; the report holds the first validation examples and their predictions after
// each epoch, and the history.
func fit(ctx context.Context, cfg RunConfig, backend compute.Backend) (*Trainer, ReportData, error) {
	report := ReportData{Size: cfg.Model.ImageSize}
	tr, err := NewTrainer(backend, cfg.Model, cfg.Recipe, cfg.Logger)
	if err != nil {
		return nil, report, err
	}
	tr.CheckpointDir = cfg.CheckpointDir
	tr.Semi = cfg.Semi
	val := cfg.Dataset.Splits[SplitVal]
	for _, ex := range val[:min(cfg.ReportExamples, len(val))] {
		tr.Snapshot = append(tr.Snapshot, ex)
		report.Names = append(report.Names, ex.Name)
		report.Images = append(report.Images, ex.Image)
		report.Truth = append(report.Truth, ex.Mask)
	}
	tr.OnEpoch = func(_ EpochStats, preds [][]uint8) { report.Frames = append(report.Frames, preds) }
	cfg.Logger.Info("training", zap.String("preset", cfg.Preset), zap.Int("params", cfg.Model.NumParams()),
		zap.String("backend", cfg.Backend), zap.Any("recipe", cfg.Recipe), zap.Any("splits", cfg.Dataset.Manifest.Splits))
	history, err := tr.Train(ctx, cfg.Dataset.Splits[SplitTrain], val, cfg.Model.ImageSize)
	if err != nil {
		return nil, report, err
	}
	report.History = history
	return tr, report, nil
}

// exportBackendFor is the GoMLX ONNX Runtime backend to export tr's model with: the training backend itself
// when it is one, else a new onnx:cpu backend, which release finalizes, with the weights moved off the training
// backend.
func exportBackendFor(name string, backend compute.Backend, tr *Trainer) (exportBackend compute.Backend, release func(), err error) {
	if strings.HasPrefix(name, "onnx") {
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

// evaluateExport scores the exported model on the validation and test splits that have examples, as it will
// be served; evalSplit is the split that judges the model: validation, or test when there is no validation split.
func evaluateExport(ctx context.Context, cfg RunConfig, onnxBytes []byte) (results map[string]Metrics, evalSplit string, err error) {
	sess, err := cfg.Runtime.Load(onnxBytes, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		return nil, "", fmt.Errorf("load exported model: %w", err)
	}
	defer sess.Close()
	results = map[string]Metrics{}
	for _, split := range []string{SplitVal, SplitTest} {
		if exs := cfg.Dataset.Splits[split]; len(exs) > 0 {
			m, err := EvaluateSession(ctx, sess, exs, 16)
			if err != nil {
				return nil, "", err
			}
			results[split] = m
		}
	}
	evalSplit = SplitVal
	if _, ok := results[evalSplit]; !ok {
		evalSplit = SplitTest
	}
	return results, evalSplit, nil
}

// recordMetrics records m in the model file: a metadata edit, the graph and weights stay as evaluated.
func recordMetrics(onnxBytes []byte, m Metrics) ([]byte, model.Metadata, error) {
	meta, err := model.ReadMetadata(onnxBytes)
	if err != nil {
		return nil, meta, err
	}
	meta.Metrics = m.Map()
	onnxBytes, err = model.WriteMetadata(onnxBytes, meta)
	return onnxBytes, meta, err
}

// logEvaluation logs the metrics of each evaluated split.
func logEvaluation(log *zap.Logger, results map[string]Metrics) {
	for split, m := range results {
		log.Info("evaluation", zap.String("split", split), zap.Float64("pixel_accuracy", m.PixelAccuracy),
			zap.Float64("mean_iou", m.MeanIoU), zap.Float64("article_iou", m.ArticleIoU),
			zap.Float64("border_iou", m.BorderIoU), zap.Float64("boundary_f", m.BoundaryF))
	}
}

// writeRun writes the model, the summary and, when an epoch ran, the report to out.
func writeRun(out string, onnxBytes []byte, summary Summary, report ReportData) error {
	if err := atomicfile.WriteBytes(filepath.Join(out, RunModelFile), onnxBytes, 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return fmt.Errorf("encode metrics: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(out, RunMetricsFile), js, 0o644); err != nil {
		return err
	}
	if len(report.Frames) == 0 {
		return nil // Every epoch came from a checkpoint: there are no per-epoch predictions to show.
	}
	return WriteReport(filepath.Join(out, RunReportDir), report)
}
