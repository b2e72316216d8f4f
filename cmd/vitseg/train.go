package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/network"
	"github.com/vitseg/vitseg/training"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "train --data DIR|s3://BUCKET/PREFIX --out DIR [flags]", stderr)
	def := training.DefaultRecipe()
	preset := fs.String("preset", model.PresetSmall, "model preset: article, small, tiny or segformer")
	epochs := fs.Int("epochs", def.Epochs, "training epochs")
	batch := fs.Int("batch-size", def.BatchSize, "images per training step")
	lr := fs.Float64("lr", def.LearningRate, "Adam learning rate")
	lrStep := fs.Int("lr-step-epochs", def.LRStepEpochs, "StepLR: multiply the learning rate by --lr-gamma every this many epochs")
	lrGamma := fs.Float64("lr-gamma", def.LRGamma, "StepLR factor")
	contrast := fs.Float64("contrast", def.Augmentation.Contrast, "contrast jitter (torchvision ColorJitter contrast)")
	hflip := fs.Bool("hflip", def.Augmentation.HFlip, "random horizontal flip of image and mask")
	crop := fs.Float64("crop-scale", def.Augmentation.CropScale, "random crop of side [crop-scale, 1] x image, resized back (0: off, the article's recipe)")
	seed := fs.Uint64("seed", def.Seed, "random seed (same seed + same data = same model)")
	var dev deviceFlag
	dev.register(fs)
	backendCfg := fs.String("backend", "", "explicit GoMLX backend, e.g. go:ops_sequential (overrides --device)")
	ckptDir := fs.String("checkpoint-dir", "", "checkpoint every epoch and on SIGTERM; resume from it (default OUT/checkpoint)")
	out := fs.String("out", "", "output directory for model.onnx, metrics.json and report/ (required)")
	reportExamples := fs.Int("report-examples", 6, "validation images shown in the report")
	var reg registryFlags
	reg.register(fs)
	var levers leverFlags
	levers.register(fs)
	var rt runtimeFlags
	var lf logFlags
	var data dataFlags
	rt.register(fs)
	lf.register(fs, "console")
	data.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	if err := requireONNXExport("train"); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	cfg, err := model.Preset(*preset)
	if err != nil {
		return usagef("--preset: %v", err)
	}
	recipe := training.Recipe{Epochs: *epochs, BatchSize: *batch, LearningRate: *lr, LRStepEpochs: *lrStep,
		LRGamma: *lrGamma, Augmentation: training.Augmentation{HFlip: *hflip, Contrast: *contrast, CropScale: *crop}, Seed: *seed}
	levers.apply(&recipe, &cfg)
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if err := recipe.Validate(); err != nil {
		return usageError{err.Error()}
	}
	runtime, err := rt.open()
	if err != nil {
		return err
	}
	backendName, err := dev.gomlxBackend(ctx, runtime, *backendCfg, log)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	if *ckptDir == "" {
		*ckptDir = filepath.Join(*out, "checkpoint")
	}

	started := time.Now()
	ds, err := data.load(ctx, cfg.ImageSize, log)
	if err != nil {
		return err
	}
	backend, err := compute.NewWithConfig(backendName)
	if err != nil {
		return fmt.Errorf("GoMLX backend %q: %w", backendName, err)
	}
	defer backend.Finalize()
	tr, err := training.NewTrainer(backend, cfg, recipe, log)
	if err != nil {
		return err
	}
	tr.CheckpointDir = *ckptDir
	val := ds.Splits[training.SplitVal]
	report := training.ReportData{Size: cfg.ImageSize}
	for _, ex := range val[:min(*reportExamples, len(val))] {
		tr.Snapshot = append(tr.Snapshot, ex)
		report.Names = append(report.Names, ex.Name)
		report.Images = append(report.Images, ex.Image)
		report.Truth = append(report.Truth, ex.Mask)
	}
	tr.OnEpoch = func(_ training.EpochStats, preds [][]uint8) { report.Frames = append(report.Frames, preds) }
	log.Info("training", zap.String("preset", *preset), zap.Int("params", cfg.NumParams()),
		zap.String("backend", backendName), zap.Any("recipe", recipe), zap.Any("splits", ds.Manifest.Splits))
	history, err := tr.Train(ctx, ds.Splits[training.SplitTrain], val, cfg.ImageSize)
	if err != nil {
		return err
	}
	report.History = history
	trainSeconds := time.Since(started).Seconds()

	// Export (always through GoMLX's ONNX Runtime backend, also when training ran on another backend), then
	// evaluate the exported model exactly as it will be served.
	exportBackend := backend
	if !strings.HasPrefix(backendName, "onnx") {
		if exportBackend, err = compute.NewWithConfig("onnx:cpu"); err != nil {
			return fmt.Errorf("GoMLX ONNX backend for export: %w", err)
		}
		defer exportBackend.Finalize()
		// Detach the weights from the training backend so that the export backend can use them.
		for v := range tr.Store.IterVariables() {
			value, err := v.Value()
			if err != nil {
				return fmt.Errorf("read variable %s: %w", v.Path(), err)
			}
			if err := value.ToLocal(); err != nil {
				return fmt.Errorf("move variable %s off the training backend: %w", v.Path(), err)
			}
		}
	}
	meta := model.Metadata{Name: reg.name, Version: "local", Preset: *preset, CreatedAt: time.Now().UTC(), CodeVersion: version}
	onnxBytes, err := network.Export(exportBackend, tr.Net, tr.Store, meta)
	if err != nil {
		return err
	}
	sess, err := runtime.Load(onnxBytes, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		return fmt.Errorf("load exported model: %w", err)
	}
	defer sess.Close()
	results := map[string]training.Metrics{}
	for _, split := range []string{training.SplitVal, training.SplitTest} {
		if exs := ds.Splits[split]; len(exs) > 0 {
			m, err := training.EvaluateSession(ctx, sess, exs, 16)
			if err != nil {
				return err
			}
			results[split] = m
		}
	}
	evalSplit := training.SplitVal
	if _, ok := results[evalSplit]; !ok {
		evalSplit = training.SplitTest
	}
	// Record the metrics in the file: a metadata edit, the graph and weights stay as evaluated.
	if meta, err = model.ReadMetadata(onnxBytes); err != nil {
		return err
	}
	meta.Metrics = results[evalSplit].Map()
	if onnxBytes, err = model.WriteMetadata(onnxBytes, meta); err != nil {
		return err
	}
	summary := runSummary{Preset: *preset, Params: cfg.NumParams(), Recipe: recipe, Dataset: ds.Manifest,
		Skipped: ds.Skipped, History: history, Metrics: results, EvalSplit: evalSplit,
		TrainSeconds: trainSeconds, Backend: backendName, Seed: *seed}
	if err := writeRunOutputs(*out, onnxBytes, summary, report); err != nil {
		return err
	}
	for split, m := range results {
		log.Info("evaluation", zap.String("split", split), zap.Float64("pixel_accuracy", m.PixelAccuracy),
			zap.Float64("mean_iou", m.MeanIoU), zap.Float64("article_iou", m.ArticleIoU),
			zap.Float64("border_iou", m.BorderIoU), zap.Float64("boundary_f", m.BoundaryF))
	}
	if reg.bucket != "" {
		r, err := reg.open(data.s3, log)
		if err != nil {
			return err
		}
		res, err := publishRun(ctx, r, reg, runtime, log, onnxBytes, meta, summary, ds.Splits[evalSplit], filepath.Join(*out, "report"))
		if err != nil {
			return err
		}
		verdict := "published"
		if !res.Published {
			verdict = "rejected"
		}
		fmt.Fprintf(stdout, "registry: version %s %s: %s\n", res.Version, verdict, res.Reason)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (%s); %s pixel accuracy %.4f, mean IoU %.4f\n",
		filepath.Join(*out, "model.onnx"), time.Since(started).Round(time.Second), evalSplit,
		results[evalSplit].PixelAccuracy, results[evalSplit].MeanIoU)
	return err
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
}

func writeRunOutputs(out string, onnxBytes []byte, summary runSummary, report training.ReportData) error {
	if err := writeFileAtomic(filepath.Join(out, "model.onnx"), onnxBytes); err != nil {
		return err
	}
	js, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return fmt.Errorf("encode metrics: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(out, "metrics.json"), js); err != nil {
		return err
	}
	if len(report.Frames) == 0 {
		return nil // Every epoch came from a checkpoint: there are no per-epoch predictions to show.
	}
	return training.WriteReport(filepath.Join(out, "report"), report)
}
