package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/training"
)

// The values of train --promote.
const (
	promoteDirect = "direct"
	promoteShadow = "shadow"
)

// trainFlags are the flags of vitseg train.
type trainFlags struct {
	preset                string
	epochs, batch, lrStep int
	lr, lrGamma           float64
	contrast, crop        float64
	hflip                 bool
	seed                  uint64
	dev                   deviceFlag
	backend, ckptDir, out string
	reportExamples        int
	reg                   registryFlags
	promote               string
	onlyScored            bool
	levers                leverFlags
	rt                    runtimeFlags
	lf                    logFlags
	data                  dataFlags
	unlabeled             unlabeledFlags
}

// parseTrainFlags defines the flags of vitseg train and parses args.
func parseTrainFlags(args []string, stderr io.Writer) (*trainFlags, error) {
	fs := newFlagSet("train", "train --data DIR|s3://BUCKET/PREFIX --out DIR [flags]", stderr)
	var f trainFlags
	f.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if f.out == "" {
		return nil, usagef("--out is required")
	}
	if f.promote != promoteDirect && f.promote != promoteShadow {
		return nil, usagef("--promote must be %s or %s, got %q", promoteDirect, promoteShadow, f.promote)
	}
	if f.onlyScored && (f.reg.bucket == "" || !objstore.IsURL(f.data.data)) {
		return nil, usagef("--only-scored-labels needs --data s3://BUCKET/PREFIX and --registry-bucket: serve scores the labels that arrive in a bucket and records them in the registry")
	}
	return &f, nil
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	def := training.DefaultRecipe()
	fs.StringVar(&f.preset, "preset", model.PresetSmall, "model preset: article, small, tiny or segformer")
	fs.IntVar(&f.epochs, "epochs", def.Epochs, "training epochs")
	fs.IntVar(&f.batch, "batch-size", def.BatchSize, "images per training step")
	fs.Float64Var(&f.lr, "lr", def.LearningRate, "Adam learning rate")
	fs.IntVar(&f.lrStep, "lr-step-epochs", def.LRStepEpochs, "StepLR: multiply the learning rate by --lr-gamma every this many epochs")
	fs.Float64Var(&f.lrGamma, "lr-gamma", def.LRGamma, "StepLR factor")
	fs.Float64Var(&f.contrast, "contrast", def.Augmentation.Contrast, "contrast jitter (torchvision ColorJitter contrast)")
	fs.BoolVar(&f.hflip, "hflip", def.Augmentation.HFlip, "random horizontal flip of image and mask")
	fs.Float64Var(&f.crop, "crop-scale", def.Augmentation.CropScale, "random crop of side [crop-scale, 1] x image, resized back (0: off, the article's recipe)")
	fs.Uint64Var(&f.seed, "seed", def.Seed, "random seed (same seed + same data = same model)")
	f.dev.register(fs)
	fs.StringVar(&f.backend, "backend", "", "explicit GoMLX backend, e.g. go:ops_sequential (overrides --device)")
	fs.StringVar(&f.ckptDir, "checkpoint-dir", "", "checkpoint every epoch and on SIGTERM; resume from it (default OUT/checkpoint)")
	fs.StringVar(&f.out, "out", "", "output directory for model.onnx, metrics.json and report/ (required)")
	fs.IntVar(&f.reportExamples, "report-examples", 6, "validation images shown in the report")
	f.reg.register(fs)
	fs.StringVar(&f.promote, "promote", promoteDirect, "a version that passes the gate: direct (made current) or shadow (proposed as the candidate; serve evaluates it on live traffic, then promotes or rejects it)")
	fs.BoolVar(&f.onlyScored, "only-scored-labels", false, "train only on labels serve has scored (its labeled feedback, serve --labels-prefix): a trimap is left out until its marker is in the registry with the trimap's current ETag")
	f.levers.register(fs)
	f.rt.register(fs)
	f.lf.register(fs, "console")
	f.data.register(fs)
	f.unlabeled.register(fs)
}

// plan is the model configuration and the recipe the flags ask for, validated.
func (f *trainFlags) plan() (model.Config, training.Recipe, error) {
	cfg, err := model.Preset(f.preset)
	if err != nil {
		return cfg, training.Recipe{}, usagef("--preset: %v", err)
	}
	recipe := training.Recipe{Epochs: f.epochs, BatchSize: f.batch, LearningRate: f.lr, LRStepEpochs: f.lrStep,
		LRGamma: f.lrGamma, Augmentation: training.Augmentation{HFlip: f.hflip, Contrast: f.contrast, CropScale: f.crop}, Seed: f.seed}
	f.levers.apply(&recipe, &cfg)
	if err := cfg.Validate(); err != nil {
		return cfg, recipe, usageError{err.Error()}
	}
	if err := recipe.Validate(); err != nil {
		return cfg, recipe, usageError{err.Error()}
	}
	return cfg, recipe, nil
}

// prepareOutput creates the output directory and defaults the checkpoint directory to OUT/checkpoint.
func (f *trainFlags) prepareOutput() error {
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	if f.ckptDir == "" {
		f.ckptDir = filepath.Join(f.out, "checkpoint")
	}
	return nil
}
