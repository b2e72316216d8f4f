package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"
)

// errNoOutputBucket reports a mask destination that does not exist: every image would be segmented and then
// dead-lettered, so serve refuses to start.
var errNoOutputBucket = errors.New("output bucket does not exist")

// outputBuckets are the buckets masks are written to: --output-bucket, else the allowed source buckets.
func (f *serveFlags) outputBuckets() []string {
	if f.outBucket != "" {
		return []string{f.outBucket}
	}
	return f.allow.Buckets()
}

// checkOutputBuckets fails when one of buckets is known not to exist. When S3 cannot answer now, it only logs:
// the pipeline waits out outages (its readiness reports them), and a start must not depend on one.
func checkOutputBuckets(ctx context.Context, client *minio.Client, buckets []string, log *zap.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, b := range buckets {
		exists, err := client.BucketExists(ctx, b)
		switch {
		case err != nil:
			log.Warn("could not check the output bucket; starting anyway", zap.String("bucket", b), zap.Error(err))
		case !exists:
			return fmt.Errorf("%w: %q (masks go there: create it, or set --output-bucket)", errNoOutputBucket, b)
		}
	}
	return nil
}
