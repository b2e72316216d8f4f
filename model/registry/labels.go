package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/objstore"
)

// LabelsDir names the directory of scored-label markers under the model prefix:
// LabelsDir/BUCKET/KEY/ETAG.json records that serve scored the label object s3://BUCKET/KEY with that ETag.
const LabelsDir = "labels"

// ErrInvalidLabel reports a scored label without a bucket, a key or an ETag usable in a marker's name.
var ErrInvalidLabel = errors.New("registry: invalid label object")

// LabeledStats are a version's pixel accuracy on labeled photos: photos it served whose trimap arrived later,
// scored by serve against it at the photo's size.
type LabeledStats struct {
	Images      int64   `json:"images"`       // labeled photos scored
	AccuracySum float64 `json:"accuracy_sum"` // the sum of their pixel accuracies
}

// Add adds o's figures.
func (l *LabeledStats) Add(o LabeledStats) {
	l.Images += o.Images
	l.AccuracySum += o.AccuracySum
}

// Observe counts one labeled photo scored with pixel accuracy acc.
func (l *LabeledStats) Observe(acc float64) {
	l.Images++
	l.AccuracySum += acc
}

// Accuracy is the mean pixel accuracy (0 without labeled photos).
func (l LabeledStats) Accuracy() float64 {
	if l.Images == 0 {
		return 0
	}
	return l.AccuracySum / float64(l.Images)
}

// ScoredLabel is the marker of a label object (a trimap) that serve scored: the versions' masks of its photo
// against it. Training leaves out a label without one (training.BucketSource.Scored), so that no version
// trains on a label before that label has judged it.
type ScoredLabel struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	ETag   string `json:"etag"` // the label object's content: a relabelled photo is scored again
	// Accuracy is the pixel accuracy of each version scored, by version.
	Accuracy map[string]float64 `json:"accuracy"`
	ScoredAt time.Time          `json:"scored_at"`
}

func (r *Registry) labelsPrefix(bucket string) string {
	return r.modelPrefix() + LabelsDir + "/" + bucket + "/"
}

func (r *Registry) labelKey(bucket, key, etag string) (string, error) {
	if bucket == "" || strings.Contains(bucket, "/") || key == "" || etag == "" || strings.ContainsAny(etag, "/\"") {
		return "", fmt.Errorf("%w: bucket %q, key %q, etag %q", ErrInvalidLabel, bucket, key, etag)
	}
	return r.labelsPrefix(bucket) + key + "/" + etag + ".json", nil
}

// MarkScored records the marker of l, created once (If-None-Match: *): false, and no change, when the same
// label object was marked already (by another replica, or before a redelivery), so that whoever gets true is
// the one that counts its figures.
func (r *Registry) MarkScored(ctx context.Context, l ScoredLabel) (bool, error) {
	key, err := r.labelKey(l.Bucket, l.Key, l.ETag)
	if err != nil {
		return false, err
	}
	if l.ScoredAt.IsZero() {
		l.ScoredAt = time.Now().UTC()
	}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return false, fmt.Errorf("registry: encode %s: %w", key, err)
	}
	opts := minio.PutObjectOptions{ContentType: "application/json"}
	opts.SetMatchETagExcept("*")
	_, err = r.putBytes(ctx, key, data, opts)
	if objstore.IsPreconditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// IsScored reports whether the label object bucket/key with etag has its marker.
func (r *Registry) IsScored(ctx context.Context, bucket, key, etag string) (bool, error) {
	k, err := r.labelKey(bucket, key, etag)
	if err != nil {
		return false, err
	}
	_, err = r.client.StatObject(ctx, r.bucket, k, minio.StatObjectOptions{})
	if objstore.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("registry: stat %s: %w", k, err)
	}
	return true, nil
}

// ScoredSet is the set of label objects that have a marker: ETags by object key.
type ScoredSet map[string][]string

// Has reports whether the label object key with etag was scored.
func (s ScoredSet) Has(key, etag string) bool {
	return slices.Contains(s[key], etag)
}

// ScoredLabels lists the markers of the label objects under bucket/prefix, with one listing.
func (r *Registry) ScoredLabels(ctx context.Context, bucket, prefix string) (ScoredSet, error) {
	base := r.labelsPrefix(bucket)
	set := ScoredSet{}
	for obj := range r.client.ListObjects(ctx, r.bucket, minio.ListObjectsOptions{Prefix: base + prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("registry: list %s: %w", base+prefix, obj.Err)
		}
		marker, ok := strings.CutSuffix(strings.TrimPrefix(obj.Key, base), ".json")
		i := strings.LastIndexByte(marker, '/')
		if !ok || i <= 0 {
			continue
		}
		key, etag := marker[:i], marker[i+1:]
		set[key] = append(set[key], etag)
	}
	return set, nil
}
