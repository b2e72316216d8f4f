package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
)

// getBytes reads an object of at most limit bytes and its ETag; a missing object matches fs.ErrNotExist, a
// larger one objstore.ErrTooLarge.
func (r *Registry) getBytes(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	o, err := objstore.Get(ctx, r.client, r.bucket, key, limit)
	if err != nil {
		return nil, "", fmt.Errorf("registry: get %s: %w", key, err)
	}
	return o.Data, o.ETag, nil
}

// Get returns the metadata of version (ErrNotFound if it does not exist).
func (r *Registry) Get(ctx context.Context, version string) (VersionMetadata, error) {
	if _, err := ParseVersion(version); err != nil {
		return VersionMetadata{}, err
	}
	data, _, err := r.getBytes(ctx, r.versionKey(version, MetadataFile), maxJSONBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return VersionMetadata{}, fmt.Errorf("%w: %s", ErrNotFound, version)
	}
	if err != nil {
		return VersionMetadata{}, err
	}
	var meta VersionMetadata
	if err := json.Unmarshal(data, &meta); err != nil {
		return VersionMetadata{}, fmt.Errorf("registry: decode metadata of %s: %w", version, err)
	}
	if meta.Version != version {
		return VersionMetadata{}, fmt.Errorf("registry: metadata of %s names version %q", version, meta.Version)
	}
	return meta, nil
}

// Model downloads model.onnx of version and checks its size and SHA-256 against metadata.json (ErrIncomplete,
// ErrChecksum).
func (r *Registry) Model(ctx context.Context, version string) ([]byte, error) {
	meta, err := r.Get(ctx, version)
	if err != nil {
		return nil, err
	}
	key := r.versionKey(version, ModelFile)
	data, _, err := r.getBytes(ctx, key, meta.ModelSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s", ErrIncomplete, version, ModelFile)
	}
	if errors.Is(err, objstore.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %v (metadata says %d bytes)", ErrChecksum, err, meta.ModelSize)
	}
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != meta.ModelSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, metadata says %d", ErrIncomplete, key, len(data), meta.ModelSize)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != meta.ModelSHA256 {
		return nil, fmt.Errorf("%w: %s has sha256 %s, metadata says %s", ErrChecksum, key, got, meta.ModelSHA256)
	}
	return data, nil
}

// checkComplete verifies that model.onnx of meta is uploaded in full.
func (r *Registry) checkComplete(ctx context.Context, meta VersionMetadata) error {
	key := r.versionKey(meta.Version, ModelFile)
	info, err := r.client.StatObject(ctx, r.bucket, key, minio.StatObjectOptions{})
	if objstore.IsNotFound(err) {
		return fmt.Errorf("%w: %s has no %s", ErrIncomplete, meta.Version, ModelFile)
	}
	if err != nil {
		return fmt.Errorf("registry: stat %s: %w", key, err)
	}
	if meta.ModelSize == 0 || info.Size != meta.ModelSize {
		return fmt.Errorf("%w: %s is %d bytes, metadata says %d", ErrIncomplete, key, info.Size, meta.ModelSize)
	}
	return nil
}

// List returns the metadata of every version, oldest first. Version directories without metadata.json are
// skipped with a warning.
func (r *Registry) List(ctx context.Context) ([]VersionMetadata, error) {
	nums, err := r.versions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]VersionMetadata, 0, len(nums))
	for _, n := range nums {
		meta, err := r.Get(ctx, FormatVersion(n))
		if errors.Is(err, ErrNotFound) {
			r.log.Warn("version without metadata", zap.String("version", FormatVersion(n)))
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, meta)
	}
	return out, nil
}
