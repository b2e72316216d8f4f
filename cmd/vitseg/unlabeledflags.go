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
	"github.com/vitseg/vitseg/model/imaging"
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

// pseudoMinAccuracy is the accuracy on the validation split that the automatic threshold asks of the teacher's
// confident pixels.
const pseudoMinAccuracy = 0.95

// pseudoThresholds are the thresholds the automatic choice considers.
func pseudoThresholds() []float64 { return []float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98} }

func (u *unlabeledFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&u.source, "unlabeled", "", "unlabeled photos to learn from (pseudo-labels): a directory or s3://bucket/prefix, e.g. the prefix users' uploads land in (empty: labels only)")
	fs.StringVar(&u.exclude, "unlabeled-exclude", "masks/", "key prefix left out of an s3:// --unlabeled source (the pipeline's masks)")
	fs.IntVar(&u.max, "unlabeled-max", 1000, "use at most this many unlabeled photos, drawn at random by --seed (0: all)")
	fs.StringVar(&u.teacher, "teacher", "", "model that makes the first pseudo-labels, with flip TTA: an ONNX file, or current (the registry's current version; needs --registry-bucket); empty: the student itself, after --pseudo-warmup-epochs")
	fs.Float64Var(&u.threshold, "pseudo-threshold", 0, fmt.Sprintf("softmax probability a pixel's class needs to count (0: the lowest of %v whose confident pixels are %.0f%% right on the validation split, with --teacher; else 0.9)", pseudoThresholds(), 100*pseudoMinAccuracy))
	fs.Float64Var(&u.ratio, "pseudo-ratio", 1, "pseudo-labeled photos per labeled photo in each epoch")
	fs.IntVar(&u.warmup, "pseudo-warmup-epochs", 0, "epochs on the labeled photos alone before pseudo-labels join")
	fs.IntVar(&u.refresh, "pseudo-refresh-epochs", 0, "relabel the photos with the student every this many epochs (0: keep the first labels)")
}

// strongAugmentation is what the student sees of a pseudo-labeled photo: the recipe's augmentation with colour
// jitter at least as strong as brightness, contrast and saturation 0.4 and hue 0.05.
func strongAugmentation(a training.Augmentation) training.Augmentation {
	a.Brightness, a.Contrast, a.Saturation, a.Hue = max(a.Brightness, 0.4), max(a.Contrast, 0.4), max(a.Saturation, 0.4), max(a.Hue, 0.05)
	return a
}

// semiPlan is what plan prepares: the settings for the trainer, their record for metrics.json, and release,
// which closes the teacher.
type semiPlan struct {
	semi    *training.SemiSupervised
	summary *training.UnlabeledSummary
	release func()
}

// plan loads the unlabeled photos and the teacher and returns the semi-supervised settings (zero when
// --unlabeled is not set). Photos that are also in ds (by content) are left out.
func (u *unlabeledFlags) plan(ctx context.Context, d dataFlags, reg registryFlags, ds *training.Dataset, rt *inference.Runtime,
	recipe training.Recipe, cfg model.Config, log *zap.Logger) (p semiPlan, err error) {
	p.release = func() {}
	defer func() {
		if err != nil {
			p.release() // the teacher, when it was opened before the failure
		}
	}()
	if u.source == "" {
		return p, nil
	}
	src, err := u.sourceOf(d.s3)
	if err != nil {
		return p, err
	}
	labeled := map[string]bool{}
	for _, exs := range ds.Splits {
		for _, ex := range exs {
			labeled[ex.ImageSHA256] = true
		}
	}
	set, err := training.LoadUnlabeled(ctx, src, training.UnlabeledOptions{ImageSize: cfg.ImageSize, Max: u.max,
		Seed: recipe.Seed, Limits: imaging.DefaultLimits(), Labeled: labeled, Logger: log})
	if err != nil {
		return p, err
	}
	p.semi = &training.SemiSupervised{Photos: set.Photos, Threshold: u.threshold, Ratio: u.ratio, WarmupEpochs: u.warmup,
		RefreshEpochs: u.refresh, Augmentation: strongAugmentation(recipe.Augmentation)}
	p.summary = &training.UnlabeledSummary{UnlabeledSet: set, Teacher: "student", Ratio: u.ratio, WarmupEpochs: u.warmup, RefreshEpochs: u.refresh}
	if u.teacher != "" {
		b, name, err := u.teacherModel(ctx, reg, d.s3, log)
		if err != nil {
			return p, err
		}
		if err := u.loadTeacher(ctx, rt, b, name, ds, cfg, &p, log); err != nil {
			return p, err
		}
	}
	if p.semi.Threshold == 0 {
		p.semi.Threshold = 0.9
		if p.summary.ThresholdTable != nil {
			p.semi.Threshold = training.ChooseThreshold(p.summary.ThresholdTable, pseudoMinAccuracy)
		}
	}
	p.summary.Threshold = p.semi.Threshold
	if err := p.semi.Validate(); err != nil {
		return p, usageError{err.Error()}
	}
	return p, nil
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

// loadTeacher opens the teacher model b (flip TTA) into p and scores its pseudo-labels on the validation split.
func (u *unlabeledFlags) loadTeacher(ctx context.Context, rt *inference.Runtime, b []byte, name string, ds *training.Dataset,
	cfg model.Config, p *semiPlan, log *zap.Logger) error {
	sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU, TTA: inference.TTAFlip})
	if err != nil {
		return fmt.Errorf("--teacher %s: %w", name, err)
	}
	if c := sess.Config(); c.ImageSize != cfg.ImageSize || c.Classes != cfg.Classes {
		sess.Close()
		return fmt.Errorf("--teacher %s: image size %d and %d classes, the student has %d and %d",
			name, c.ImageSize, c.Classes, cfg.ImageSize, cfg.Classes)
	}
	p.release = func() { sess.Close() }
	p.semi.Teacher = training.SessionTeacher(sess)
	p.summary.Teacher = name + " (metadata version " + sess.Metadata().Version + ")"
	if val := ds.Splits[training.SplitVal]; len(val) > 0 {
		table, err := training.ThresholdTable(ctx, p.semi.Teacher, val, cfg.Classes, cfg.ImageSize, pseudoThresholds())
		if err != nil {
			return err
		}
		p.summary.ThresholdTable = table
		log.Info("teacher's pseudo-labels on the validation split", zap.Any("thresholds", table))
	}
	return nil
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
