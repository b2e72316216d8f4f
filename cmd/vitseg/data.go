package main

import (
	"context"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/training"
)

// loadData loads the labeled dataset d locates at the model's image size, reading a bucket with s3.
func loadData(ctx context.Context, d training.DataConfig, s3 objstore.Config, size int, log *zap.Logger) (*training.Dataset, error) {
	if err := d.Validate(); err != nil {
		return nil, usageError{err.Error()}
	}
	return d.Load(ctx, s3Client(s3), size, log)
}

// s3Client returns the function that opens the S3 client c configures, for the libraries that open it only when
// they read a bucket.
func s3Client(c objstore.Config) func() (*minio.Client, error) {
	return func() (*minio.Client, error) { return objstore.New(c) }
}
