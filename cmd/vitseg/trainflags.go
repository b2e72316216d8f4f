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
	arch                  model.ArchOptions
	recipe                training.Recipe
	dev                   deviceFlag
	backend, ckptDir, out string
	reportExamples        int
	reg                   registryFlags
	promote               string
	onlyScored            bool
	rt                    runtimeFlags
	lf                    logFlags
	data                  training.DataConfig
	semi                  training.SemiConfig
	s3                    objstore.Config
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
	if f.onlyScored && (f.reg.bucket == "" || !objstore.IsURL(f.data.Data)) {
		return nil, usagef("--only-scored-labels needs --data s3://BUCKET/PREFIX and --registry-bucket: serve scores the labels that arrive in a bucket and records them in the registry")
	}
	return &f, nil
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	model.RegisterPresetFlag(fs, &f.preset, model.PresetSmall)
	f.arch.RegisterFlags(fs)
	f.recipe.RegisterFlags(fs)
	f.dev.register(fs)
	fs.StringVar(&f.backend, "backend", "", "explicit GoMLX backend, e.g. go:ops_sequential (overrides --device)")
	fs.StringVar(&f.ckptDir, "checkpoint-dir", "", "checkpoint every epoch and on SIGTERM; resume from it (default OUT/checkpoint)")
	fs.StringVar(&f.out, "out", "", "output directory for model.onnx, metrics.json and report/ (required)")
	fs.IntVar(&f.reportExamples, "report-examples", 6, "validation images shown in the report")
	f.reg.register(fs)
	fs.StringVar(&f.promote, "promote", promoteDirect, "a version that passes the gate: direct (made current) or shadow (proposed as the candidate; serve evaluates it on live traffic, then promotes or rejects it)")
	fs.BoolVar(&f.onlyScored, "only-scored-labels", false, "train only on labels serve has scored (its labeled feedback, serve --labels-prefix): a trimap is left out until its marker is in the registry with the trimap's current ETag")
	f.rt.register(fs)
	f.lf.register(fs, "console")
	f.data.RegisterFlags(fs)
	f.s3.RegisterFlags(fs)
	f.semi.RegisterFlags(fs)
}

// plan is the model configuration the flags ask for, validated with the recipe.
func (f *trainFlags) plan() (model.Config, error) {
	cfg, err := model.Choose(f.preset, f.arch)
	if err != nil {
		return cfg, usageError{err.Error()}
	}
	if err := f.recipe.Validate(); err != nil {
		return cfg, usageError{err.Error()}
	}
	return cfg, nil
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
