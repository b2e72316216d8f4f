package training

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model/registry"
)

// TeacherCurrent is the SemiConfig.Teacher that names the registry's current version.
const TeacherCurrent = "current"

// SemiConfig is semi-supervised training on unlabeled photos as vitseg train's flags give it: where the photos
// are, the teacher, and the plan's numbers.
type SemiConfig struct {
	Unlabeled string // a directory or s3://bucket/prefix; empty: labels only
	Exclude   string // key prefix left out of an s3:// Unlabeled
	Teacher   string // an ONNX file, TeacherCurrent, or empty (the student itself)
	// Plan holds Max, Threshold, Ratio, WarmupEpochs and RefreshEpochs; Resolve sets its source and teacher.
	Plan SemiPlan
}

// RegisterFlags registers --unlabeled, --unlabeled-exclude, --unlabeled-max, --teacher and the --pseudo-* flags
// on fs, bound to c.
func (c *SemiConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Unlabeled, "unlabeled", "", "unlabeled photos to learn from (pseudo-labels): a directory or s3://bucket/prefix, e.g. the prefix users' uploads land in (empty: labels only)")
	fs.StringVar(&c.Exclude, "unlabeled-exclude", "masks/", "key prefix left out of an s3:// --unlabeled source (the pipeline's masks)")
	fs.IntVar(&c.Plan.Max, "unlabeled-max", 1000, "use at most this many unlabeled photos, drawn at random by --seed (0: all)")
	fs.StringVar(&c.Teacher, "teacher", "", "model that makes the first pseudo-labels, with flip TTA: an ONNX file, or current (the registry's current version; needs --registry-bucket); empty: the student itself, after --pseudo-warmup-epochs")
	fs.Float64Var(&c.Plan.Threshold, "pseudo-threshold", 0, fmt.Sprintf("softmax probability a pixel's class needs to count (0: the lowest of %v whose confident pixels are %.0f%% right on the validation split, with --teacher; else 0.9)", PseudoThresholds(), 100*PseudoMinAccuracy))
	fs.Float64Var(&c.Plan.Ratio, "pseudo-ratio", 1, "pseudo-labeled photos per labeled photo in each epoch")
	fs.IntVar(&c.Plan.WarmupEpochs, "pseudo-warmup-epochs", 0, "epochs on the labeled photos alone before pseudo-labels join")
	fs.IntVar(&c.Plan.RefreshEpochs, "pseudo-refresh-epochs", 0, "relabel the photos with the student every this many epochs (0: keep the first labels)")
}

// Validate checks Unlabeled when it is an s3:// location; its error names --unlabeled.
func (c SemiConfig) Validate() error {
	if !objstore.IsURL(c.Unlabeled) {
		return nil
	}
	if _, _, err := objstore.ParseURL(c.Unlabeled); err != nil {
		return fmt.Errorf("--unlabeled: %w", err)
	}
	return nil
}

// Resolve returns the plan with its source and teacher: newClient opens the S3 client of an s3:// Unlabeled, and
// openRegistry the registry whose current version a TeacherCurrent is.
func (c SemiConfig) Resolve(ctx context.Context, newClient func() (*minio.Client, error),
	openRegistry func() (*registry.Registry, error)) (SemiPlan, error) {
	plan := c.Plan
	plan.Source = UnlabeledDir{Root: c.Unlabeled}
	if objstore.IsURL(c.Unlabeled) {
		bucket, prefix, err := objstore.ParseURL(c.Unlabeled)
		if err != nil {
			return plan, fmt.Errorf("--unlabeled: %w", err)
		}
		client, err := newClient()
		if err != nil {
			return plan, err
		}
		plan.Source = UnlabeledBucket{Client: client, Bucket: bucket, Prefix: prefix, Exclude: c.Exclude}
	}
	if c.Teacher == "" {
		return plan, nil
	}
	var err error
	plan.Teacher, plan.TeacherName, err = c.teacherModel(ctx, openRegistry)
	return plan, err
}

// teacherModel reads the Teacher model: a file, or the registry's current version.
func (c SemiConfig) teacherModel(ctx context.Context, openRegistry func() (*registry.Registry, error)) ([]byte, string, error) {
	if c.Teacher != TeacherCurrent {
		b, err := os.ReadFile(c.Teacher)
		if err != nil {
			return nil, "", fmt.Errorf("--teacher: %w", err)
		}
		return b, c.Teacher, nil
	}
	r, err := openRegistry()
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
	return b, fmt.Sprintf("registry %s current version %s", r, cur.Version), nil
}
