package pipeline

import (
	"bytes"
	"context"
	"errors"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/objstore"
)

// ObjectStore is the S3 API of the stages: fetch reads images with Get, write stores masks with Put, and
// readiness asks Probe. Errors are the store's own; classifyS3 tells transient from permanent ones.
type ObjectStore interface {
	// Get returns the object's ETag and size and, when the size is at most maxBytes, its contents (read
	// through a limit of maxBytes+1, so a store that under-reports the size cannot make it read more).
	Get(ctx context.Context, bucket, key string, maxBytes int64) (Object, error)
	// Put stores data under key with the given content type and user metadata.
	Put(ctx context.Context, bucket, key string, data []byte, contentType string, meta map[string]string) error
	// Probe reports whether the store answers.
	Probe(ctx context.Context) error
}

// Object is an object read by ObjectStore.Get.
type Object struct {
	Data []byte // nil when Size is over the limit given to Get
	ETag string // without quotes
	Size int64
}

// NewS3Store returns the ObjectStore of a minio-go client. Give it a client with MaxRetries 1: the pipeline
// owns the retries of its S3 calls (retry.go).
func NewS3Store(c *minio.Client) ObjectStore { return s3Store{c} }

type s3Store struct{ c *minio.Client }

func (s s3Store) Get(ctx context.Context, bucket, key string, maxBytes int64) (Object, error) {
	o, err := objstore.Get(ctx, s.c, bucket, key, maxBytes)
	if errors.Is(err, objstore.ErrTooLarge) {
		// Over the limit by its size, or by the bytes it held when the store under-reported its size: fetch
		// refuses it by Size, at least one byte over.
		return Object{ETag: o.ETag, Size: max(o.Size, maxBytes+1)}, nil
	}
	return Object{Data: o.Data, ETag: o.ETag, Size: o.Size}, err
}

func (s s3Store) Put(ctx context.Context, bucket, key string, data []byte, contentType string, meta map[string]string) error {
	_, err := s.c.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType, UserMetadata: meta})
	return err
}

func (s s3Store) Probe(ctx context.Context) error {
	_, err := s.c.ListBuckets(ctx)
	return err
}
