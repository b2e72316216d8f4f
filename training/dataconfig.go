package training

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/registry"
)

// DataConfig locates a labeled dataset and says how it is split, as vitseg train and eval take them.
type DataConfig struct {
	Data        string  // a directory or s3://bucket/prefix in the Oxford-IIIT Pet layout
	ValFraction float64 // LoadOptions.ValFraction
	MinPairs    int     // LoadOptions.MinPairs
	// Scored, when not nil, holds the only labels a bucket's dataset reads (LimitToScored).
	Scored registry.ScoredSet
}

// RegisterFlags registers --data, --val-fraction and --min-pairs on fs, bound to c.
func (c *DataConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", "", "dataset: a directory or s3://bucket/prefix in the Oxford-IIIT Pet layout (required)")
	fs.Float64Var(&c.ValFraction, "val-fraction", 0.15, "share of trainval held out for validation (by name hash)")
	fs.IntVar(&c.MinPairs, "min-pairs", 20, "fail when fewer usable image/trimap pairs remain")
}

// Validate checks that Data is given, and is a valid location when it is an s3:// one; its errors name --data.
func (c DataConfig) Validate() error {
	if c.Data == "" {
		return errors.New("--data is required")
	}
	if _, _, err := c.location(); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	return nil
}

// location is the bucket and prefix of an s3:// Data (empty for a directory).
func (c DataConfig) location() (bucket, prefix string, err error) {
	if !objstore.IsURL(c.Data) {
		return "", "", nil
	}
	return objstore.ParseURL(c.Data)
}

// LimitToScored makes a bucket's dataset read only the labels serve has scored (registry.ScoredLabels of the
// dataset's prefix, read from reg).
func (c *DataConfig) LimitToScored(ctx context.Context, reg *registry.Registry) error {
	bucket, prefix, err := c.location()
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	scored, err := reg.ScoredLabels(ctx, bucket, prefix)
	if err != nil {
		return fmt.Errorf("reading the scored labels: %w", err)
	}
	c.Scored = scored
	return nil
}

// Load loads the validated dataset (Validate) at the model's image size; newClient opens the S3 client of an
// s3:// Data.
func (c DataConfig) Load(ctx context.Context, newClient func() (*minio.Client, error), size int, log *zap.Logger) (*Dataset, error) {
	var src Source = DirSource{Root: c.Data}
	if objstore.IsURL(c.Data) {
		bucket, prefix, err := c.location()
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		client, err := newClient()
		if err != nil {
			return nil, err
		}
		src = BucketSource{Client: client, Bucket: bucket, Prefix: prefix, Scored: c.Scored}
	}
	return Load(ctx, src, LoadOptions{ImageSize: size, ValFraction: c.ValFraction, MinPairs: c.MinPairs,
		Limits: imaging.DefaultLimits(), Logger: log})
}
