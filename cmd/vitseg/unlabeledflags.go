package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/training"
)

// unlabeledFlags configure semi-supervised training on unlabeled photos (vitseg train --unlabeled).
type unlabeledFlags struct {
	source, exclude, teacher string
	max                      int
	threshold, ratio         float64
	warmup, refresh          int
}

func (u *unlabeledFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&u.source, "unlabeled", "", "unlabeled photos to learn from (pseudo-labels): a directory or s3://bucket/prefix, e.g. the prefix users' uploads land in (empty: labels only)")
	fs.StringVar(&u.exclude, "unlabeled-exclude", "masks/", "key prefix left out of an s3:// --unlabeled source (the pipeline's masks)")
	fs.IntVar(&u.max, "unlabeled-max", 1000, "use at most this many unlabeled photos, drawn at random by --seed (0: all)")
	fs.StringVar(&u.teacher, "teacher", "", "model that makes the first pseudo-labels, with flip TTA: an ONNX file, or current (the registry's current version; needs --registry-bucket); empty: the student itself, after --pseudo-warmup-epochs")
	fs.Float64Var(&u.threshold, "pseudo-threshold", 0, fmt.Sprintf("softmax probability a pixel's class needs to count (0: the lowest of %v whose confident pixels are %.0f%% right on the validation split, with --teacher; else 0.9)", training.PseudoThresholds(), 100*training.PseudoMinAccuracy))
	fs.Float64Var(&u.ratio, "pseudo-ratio", 1, "pseudo-labeled photos per labeled photo in each epoch")
	fs.IntVar(&u.warmup, "pseudo-warmup-epochs", 0, "epochs on the labeled photos alone before pseudo-labels join")
	fs.IntVar(&u.refresh, "pseudo-refresh-epochs", 0, "relabel the photos with the student every this many epochs (0: keep the first labels)")
}

// plan loads the unlabeled photos and the teacher and returns the semi-supervised settings (zero when
// --unlabeled is not set). Photos that are also in ds (by content) are left out.
func (u *unlabeledFlags) plan(ctx context.Context, d dataFlags, reg registryFlags, ds *training.Dataset, rt *inference.Runtime,
	recipe training.Recipe, cfg model.Config, log *zap.Logger) (training.Semi, error) {
	if u.source == "" {
		return training.Semi{Close: func() {}}, nil
	}
	src, err := u.sourceOf(d.s3)
	if err != nil {
		return training.Semi{Close: func() {}}, err
	}
	plan := training.SemiPlan{Source: src, Max: u.max, Threshold: u.threshold, Ratio: u.ratio, WarmupEpochs: u.warmup,
		RefreshEpochs: u.refresh}
	if u.teacher != "" {
		if plan.Teacher, plan.TeacherName, err = u.teacherModel(ctx, reg, d.s3, log); err != nil {
			return training.Semi{Close: func() {}}, err
		}
	}
	s, err := training.PrepareSemi(ctx, plan, ds, rt, recipe, cfg, log)
	if err == nil {
		if verr := s.Settings.Validate(); verr != nil {
			err = usageError{verr.Error()}
		}
	}
	return s, err
}

// teacherModel reads the --teacher model: a file, or the registry's current version.
func (u *unlabeledFlags) teacherModel(ctx context.Context, reg registryFlags, s3 objstore.Config, log *zap.Logger) ([]byte, string, error) {
	if u.teacher != "current" {
		b, err := os.ReadFile(u.teacher)
		if err != nil {
			return nil, "", fmt.Errorf("--teacher: %w", err)
		}
		return b, u.teacher, nil
	}
	r, err := reg.open(s3, log)
	if err != nil {
		return nil, "", fmt.Errorf("--teacher current: %w", err)
	}
	cur, err := r.Current(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("--teacher current: %w", err)
	}
	b, err := r.Model(ctx, cur.Version)
	if err != nil {
		return nil, "", fmt.Errorf("--teacher current: %w", err)
	}
	return b, fmt.Sprintf("registry %s/%s current version %s", reg.bucket, reg.name, cur.Version), nil
}

// sourceOf is the source --unlabeled names.
func (u *unlabeledFlags) sourceOf(s3 objstore.Config) (training.UnlabeledSource, error) {
	if !strings.HasPrefix(u.source, "s3://") {
		return training.UnlabeledDir{Root: u.source}, nil
	}
	bucket, prefix, err := objstore.ParseURL(u.source)
	if err != nil {
		return nil, usagef("--unlabeled: %v", err)
	}
	client, err := objstore.New(s3)
	if err != nil {
		return nil, err
	}
	return training.UnlabeledBucket{Client: client, Bucket: bucket, Prefix: prefix, Exclude: u.exclude}, nil
}
