package training

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7"
)

// UploadDataset copies a local dataset (images/, annotations/trimaps/ and the split files) to bucket/prefix in
// the same layout, so that BucketSource reads it; with imagesOnly, only images/ is copied (to feed the stream
// pipeline). It returns the number of objects written.
func UploadDataset(ctx context.Context, client *minio.Client, dir, bucket, prefix string, imagesOnly bool) (int, error) {
	var rels []string
	subs := []string{"images", filepath.Join("annotations", "trimaps")}
	if imagesOnly {
		subs = subs[:1]
	}
	for _, sub := range subs {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", sub, err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				rels = append(rels, filepath.Join(sub, e.Name()))
			}
		}
	}
	for _, f := range []string{"trainval.txt", "test.txt"} {
		rel := filepath.Join("annotations", f)
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil && !imagesOnly {
			rels = append(rels, rel)
		}
	}
	for i, rel := range rels {
		key := path.Join(prefix, filepath.ToSlash(rel))
		contentType := "application/octet-stream"
		switch strings.ToLower(filepath.Ext(rel)) {
		case ".jpg", ".jpeg":
			contentType = "image/jpeg"
		case ".png":
			contentType = "image/png"
		case ".txt":
			contentType = "text/plain"
		}
		if _, err := client.FPutObject(ctx, bucket, key, filepath.Join(dir, rel),
			minio.PutObjectOptions{ContentType: contentType}); err != nil {
			return i, fmt.Errorf("upload s3://%s/%s: %w", bucket, key, err)
		}
	}
	return len(rels), nil
}
