package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/training"
)

// dataFlags locate a labeled dataset.
type dataFlags struct {
	data        string
	valFraction float64
	minPairs    int
	s3          objstore.Config
	scored      registry.ScoredSet // when not nil, the only labels to read (limitToScored)
}

func (d *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.data, "data", "", "dataset: a directory or s3://bucket/prefix in the Oxford-IIIT Pet layout (required)")
	fs.Float64Var(&d.valFraction, "val-fraction", 0.15, "share of trainval held out for validation (by name hash)")
	fs.IntVar(&d.minPairs, "min-pairs", 20, "fail when fewer usable image/trimap pairs remain")
	d.s3.RegisterFlags(fs)
}

func (d *dataFlags) source() (training.Source, error) {
	if d.data == "" {
		return nil, usagef("--data is required")
	}
	if !strings.HasPrefix(d.data, "s3://") {
		return training.DirSource{Root: d.data}, nil
	}
	bucket, prefix, err := objstore.ParseURL(d.data)
	if err != nil {
		return nil, usagef("--data: %v", err)
	}
	client, err := objstore.New(d.s3)
	if err != nil {
		return nil, err
	}
	return training.BucketSource{Client: client, Bucket: bucket, Prefix: prefix, Scored: d.scored}, nil
}

// limitToScored makes the dataset, in a bucket, read only the labels serve has scored (registry.ScoredLabels
// of the dataset's prefix).
func (d *dataFlags) limitToScored(ctx context.Context, reg *registry.Registry) error {
	bucket, prefix, err := objstore.ParseURL(d.data)
	if err != nil {
		return usagef("--data: %v", err)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	scored, err := reg.ScoredLabels(ctx, bucket, prefix)
	if err != nil {
		return fmt.Errorf("reading the scored labels: %w", err)
	}
	d.scored = scored
	return nil
}

func (d *dataFlags) load(ctx context.Context, size int, log *zap.Logger) (*training.Dataset, error) {
	src, err := d.source()
	if err != nil {
		return nil, err
	}
	return training.Load(ctx, src, training.LoadOptions{ImageSize: size, ValFraction: d.valFraction,
		MinPairs: d.minPairs, Limits: imaging.DefaultLimits(), Logger: log})
}
