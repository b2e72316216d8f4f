package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
)

// updateJSON is the read-decide-write loop of the registry's small JSON files other than current.json
// (candidate.json, shadow.json): it reads key and its ETag, lets decide return the value to write (write false:
// leave it), and writes it only if the object still has that ETag (If-Match), or still does not exist
// (If-None-Match: *). When another writer got in between (objstore.IsPreconditionFailed) it reads again and
// decide runs again on the new value, up to maxAttempts times (then ErrConflict). It returns the value in place.
func updateJSON[T any](ctx context.Context, r *Registry, key string, decide func(cur T, exists bool) (T, bool, error)) (T, error) {
	var zero T
	for attempt := 1; attempt <= r.maxAttempts; attempt++ {
		cur, etag, err := readJSON[T](ctx, r, key)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return zero, err
		}
		next, write, err := decide(cur, exists)
		if err != nil || !write {
			return cur, err
		}
		data, err := json.MarshalIndent(next, "", "  ")
		if err != nil {
			return zero, fmt.Errorf("registry: encode %s: %w", key, err)
		}
		opts := minio.PutObjectOptions{ContentType: "application/json", CacheControl: "no-cache"}
		if exists {
			opts.SetMatchETag(etag)
		} else {
			opts.SetMatchETagExcept("*")
		}
		_, err = r.putBytes(ctx, key, data, opts)
		if objstore.IsPreconditionFailed(err) {
			r.log.Debug("object changed concurrently, retrying", zap.String("key", key), zap.Int("attempt", attempt))
			continue
		}
		if err != nil {
			return zero, err
		}
		return next, nil
	}
	return zero, fmt.Errorf("%w: %s after %d attempts", ErrConflict, key, r.maxAttempts)
}

// readJSON reads and decodes key with its ETag; a missing object matches fs.ErrNotExist.
func readJSON[T any](ctx context.Context, r *Registry, key string) (T, string, error) {
	var v T
	data, etag, err := r.getBytes(ctx, key, maxJSONBytes)
	if err != nil {
		return v, "", err
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return v, "", fmt.Errorf("registry: decode %s: %w", key, err)
	}
	return v, etag, nil
}
