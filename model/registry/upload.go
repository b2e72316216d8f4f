package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
)

// Upload stores a new version: it claims the version (ErrVersionExists if it exists), uploads model.onnx, then
// every regular file under reportDir (if not "") to report/, then metadata.json with meta.Status (default
// StatusCandidate). It does not move current.json; see Promote and Publish.
func (r *Registry) Upload(ctx context.Context, version string, onnx []byte, meta VersionMetadata, reportDir string) error {
	status := meta.Status
	if status == "" {
		status = StatusCandidate
	}
	if err := checkStatus(status); err != nil {
		return err
	}
	meta, err := r.upload(ctx, version, onnx, meta, reportDir)
	if err != nil {
		return err
	}
	if status == StatusCandidate {
		return nil
	}
	meta.Status = status
	return r.putMetadata(ctx, meta)
}

func checkStatus(s string) error {
	switch s {
	case StatusCandidate, StatusShadow, StatusPublished, StatusRejected:
		return nil
	}
	return fmt.Errorf("registry: unknown status %q", s)
}

// upload claims version with a candidate metadata.json, then uploads the model and the report. It returns the
// metadata as stored.
func (r *Registry) upload(ctx context.Context, version string, onnx []byte, meta VersionMetadata, reportDir string) (VersionMetadata, error) {
	if _, err := ParseVersion(version); err != nil {
		return meta, err
	}
	if len(onnx) == 0 {
		return meta, errors.New("registry: empty model")
	}
	if reportDir != "" {
		// Fail before claiming the version rather than leave an abandoned candidate behind.
		resolved, err := filepath.EvalSymlinks(reportDir)
		if err != nil {
			return meta, fmt.Errorf("registry: report: %w", err)
		}
		if info, err := os.Stat(resolved); err != nil || !info.IsDir() {
			return meta, fmt.Errorf("registry: report %s is not a directory", reportDir)
		}
		reportDir = resolved
	}
	sum := sha256.Sum256(onnx)
	meta.Version = version
	meta.Status = StatusCandidate
	meta.ModelSize = int64(len(onnx))
	meta.ModelSHA256 = hex.EncodeToString(sum[:])
	if meta.CreatedAt.IsZero() {
		meta.CreatedAt = time.Now().UTC()
	}
	data, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return meta, fmt.Errorf("registry: encode metadata: %w", err)
	}
	claim := minio.PutObjectOptions{ContentType: "application/json"}
	claim.SetMatchETagExcept("*") // If-None-Match: *: create only.
	if _, err := r.putBytes(ctx, r.versionKey(version, MetadataFile), data, claim); err != nil {
		if objstore.IsPreconditionFailed(err) {
			return meta, fmt.Errorf("%w: %s", ErrVersionExists, version)
		}
		return meta, err
	}
	log := r.log.With(zap.String("version", version))
	log.Debug("claimed version")

	if _, err := r.putBytes(ctx, r.versionKey(version, ModelFile), onnx,
		minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		return meta, err
	}
	if reportDir != "" {
		if err := r.uploadReport(ctx, version, reportDir); err != nil {
			return meta, err
		}
	}
	log.Info("uploaded version", zap.Int64("model_bytes", meta.ModelSize), zap.String("sha256", meta.ModelSHA256))
	return meta, nil
}

// uploadReport uploads every regular file under dir to the version's report/ prefix.
func (r *Registry) uploadReport(ctx context.Context, version, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("registry: report: %w", err)
		}
		if !d.Type().IsRegular() {
			if !d.IsDir() {
				r.log.Warn("skipping non-regular report file", zap.String("path", p))
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("registry: report: %w", err)
		}
		key := r.versionKey(version, ReportDir+"/"+filepath.ToSlash(rel))
		contentType := mime.TypeByExtension(filepath.Ext(p))
		if contentType == "" {
			contentType = "application/octet-stream"
		}
		if _, err := r.client.FPutObject(ctx, r.bucket, key, p, minio.PutObjectOptions{ContentType: contentType}); err != nil {
			return fmt.Errorf("registry: upload %s: %w", key, err)
		}
		return nil
	})
}

func (r *Registry) putMetadata(ctx context.Context, meta VersionMetadata) error {
	data, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("registry: encode metadata: %w", err)
	}
	_, err = r.putBytes(ctx, r.versionKey(meta.Version, MetadataFile), data,
		minio.PutObjectOptions{ContentType: "application/json"})
	return err
}

func (r *Registry) putBytes(ctx context.Context, key string, data []byte, opts minio.PutObjectOptions) (minio.UploadInfo, error) {
	info, err := r.client.PutObject(ctx, r.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return info, fmt.Errorf("registry: put %s: %w", key, err)
	}
	return info, nil
}
