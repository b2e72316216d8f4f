package main

import (
	"context"
	"flag"
	"strings"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/training"
)

// dataFlags locate a labeled dataset.
type dataFlags struct {
	data        string
	valFraction float64
	minPairs    int
	s3          objstore.Config
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
	return training.BucketSource{Client: client, Bucket: bucket, Prefix: prefix}, nil
}

func (d *dataFlags) load(ctx context.Context, size int, log *zap.Logger) (*training.Dataset, error) {
	src, err := d.source()
	if err != nil {
		return nil, err
	}
	return training.Load(ctx, src, training.LoadOptions{ImageSize: size, ValFraction: d.valFraction,
		MinPairs: d.minPairs, Limits: imaging.DefaultLimits(), Logger: log})
}
