package objstore

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/backoff"
)

// Object is an object read by Get.
type Object struct {
	// Data is the object's content; nil when the object is over the limit.
	Data []byte
	// ETag is the object's entity tag, without quotes.
	ETag string
	// Size is the object's size in bytes, as S3 reports it.
	Size int64
}

// replacedReads bounds Get's reads of an object that other writers keep replacing while it is read.
const replacedReads = 8

// Get reads bucket/key, never more than limit bytes: an object over the limit (by its reported size, or by
// the bytes it turned out to hold) returns its ETag and size, no data, and an error wrapping ErrTooLarge. A
// missing object, bucket or version returns S3's answer (see Response), also matching fs.ErrNotExist. Errors
// do not name the object: callers add that.
//
// minio-go reads an object's data with If-Match: the ETag of its first response, so that a read never mixes
// two versions; an object replaced in between answers 412. Get then reads it again (up to replacedReads
// times, after a jittered wait): its callers see one whole version, never that 412.
func Get(ctx context.Context, client *minio.Client, bucket, key string, limit int64) (Object, error) {
	wait := backoff.Exponential{Min: 2 * time.Millisecond, Max: 100 * time.Millisecond}
	for attempt := 1; ; attempt++ {
		o, err := getOnce(ctx, client, bucket, key, limit)
		if !IsPreconditionFailed(err) || attempt == replacedReads {
			return o, err
		}
		t := time.NewTimer(wait.Delay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return o, err
		case <-t.C:
		}
	}
}

// getOnce is one read of Get.
func getOnce(ctx context.Context, client *minio.Client, bucket, key string, limit int64) (Object, error) {
	obj, err := client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return Object{}, readError(err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return Object{}, readError(err)
	}
	o := Object{ETag: strings.Trim(info.ETag, `"`), Size: info.Size}
	if info.Size > limit {
		return o, fmt.Errorf("%w (%d bytes, limit %d)", ErrTooLarge, info.Size, limit)
	}
	data, err := io.ReadAll(io.LimitReader(obj, limit+1))
	if err != nil {
		return Object{}, readError(err)
	}
	if int64(len(data)) > limit {
		return o, fmt.Errorf("%w (over %d bytes)", ErrTooLarge, limit)
	}
	o.Data = data
	return o, nil
}

// readError is err, also matching fs.ErrNotExist when S3 said the object does not exist; its text is S3's.
func readError(err error) error {
	if IsNotFound(err) {
		return notFoundError{err}
	}
	return err
}

// notFoundError is S3's answer that an object does not exist, matching fs.ErrNotExist too.
type notFoundError struct{ err error }

func (e notFoundError) Error() string   { return e.err.Error() }
func (e notFoundError) Unwrap() []error { return []error{fs.ErrNotExist, e.err} }
