package reconcile

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/internal/ops/eventlog"
	"github.com/vitseg/vitseg/kafkaconn"
)

// Sources are where Run looks: the bucket's objects and masks, and the event topics.
type Sources struct {
	S3                           *minio.Client
	Kafka                        kafkaconn.Cluster
	ResultTopic, DeadLetterTopic string
}

// Query names the source objects to reconcile.
type Query struct {
	Bucket, Prefix string
	// OutputPrefix is the masks' key prefix: objects under it are never sources.
	OutputPrefix string
	// Since leaves out objects modified before it (zero: none).
	Since time.Time
}

// Run lists the objects q names, reads the result and dead-letter topics to their current ends and builds
// the report, checking each mask with a HEAD request.
func Run(ctx context.Context, src Sources, q Query) (Report, error) {
	objects, err := listSources(ctx, src.S3, q)
	if err != nil {
		return Report{}, err
	}
	results, _, err := eventlog.Read(ctx, src.Kafka, src.ResultTopic, events.DecodeResult)
	if err != nil {
		return Report{}, err
	}
	letters, _, err := eventlog.Read(ctx, src.Kafka, src.DeadLetterTopic, events.DecodeDeadLetter)
	if err != nil {
		return Report{}, err
	}
	return Build(ctx, q.Bucket, q.Prefix, objects, results, letters, headMask(src.S3))
}

// listSources lists the objects under q's prefix modified at or after q.Since, leaving out the masks.
func listSources(ctx context.Context, client *minio.Client, q Query) ([]Object, error) {
	var out []Object
	for info := range client.ListObjects(ctx, q.Bucket, minio.ListObjectsOptions{Prefix: q.Prefix, Recursive: true}) {
		if info.Err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", q.Bucket, q.Prefix, info.Err)
		}
		if (q.OutputPrefix != "" && strings.HasPrefix(info.Key, q.OutputPrefix)) || info.LastModified.Before(q.Since) {
			continue
		}
		out = append(out, Object{Bucket: q.Bucket, Key: info.Key, ETag: strings.Trim(info.ETag, `"`)})
	}
	return out, nil
}

// headMask checks a mask with a HEAD request.
func headMask(client *minio.Client) MaskExists {
	return func(ctx context.Context, m events.ObjectRef) (bool, error) {
		_, err := client.StatObject(ctx, m.Bucket, m.Key, minio.StatObjectOptions{})
		switch {
		case err == nil:
			return true, nil
		case objstore.IsNotFound(err):
			return false, nil
		}
		return false, err
	}
}
