package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"
)

// ErrNoOutputBucket reports a mask destination that does not exist: every image would be segmented and then
// dead-lettered, so serve refuses to start.
var ErrNoOutputBucket = errors.New("output bucket does not exist")

// CheckOutputBuckets fails with ErrNoOutputBucket when one of buckets (Config.OutputBuckets) is known not to
// exist. When S3 cannot answer now, it only logs: the pipeline waits out outages (its readiness reports them),
// and a start must not depend on one.
func CheckOutputBuckets(ctx context.Context, client *minio.Client, buckets []string, log *zap.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, b := range buckets {
		exists, err := client.BucketExists(ctx, b)
		switch {
		case err != nil:
			log.Warn("could not check the output bucket; starting anyway", zap.String("bucket", b), zap.Error(err))
		case !exists:
			return fmt.Errorf("%w: %q (masks go there: create it, or set --output-bucket)", ErrNoOutputBucket, b)
		}
	}
	return nil
}
