package pipeline

import (
	"fmt"
	"path"
	"strings"

	"github.com/vitseg/vitseg/consumer"
)

// Where a labeled dataset in the Oxford-IIIT Pet layout keeps its photos and trimaps, under its prefix (the
// layout training.BucketSource reads).
const (
	labelPhotosDir  = "images/"
	labelTrimapsDir = "annotations/trimaps/"
)

// labelPhotoExts are the photo file extensions tried for a trimap NAME.png, in order (training reads the same).
var labelPhotoExts = [...]string{".jpg", ".jpeg", ".png"}

// labelRoute recognises the label objects of the labeled dataset under LifecycleConfig.LabelsPrefix: a
// reference to BUCKET/PREFIX/annotations/trimaps/NAME.png is a trimap that arrived for the photo
// BUCKET/PREFIX/images/NAME.jpg, routed to the feedback stage instead of being segmented.
type labelRoute struct {
	bucket, prefix string // prefix "" or ending in "/"
}

// parseLabelRoute parses "bucket" or "bucket/prefix" (an "s3://" scheme is accepted and dropped).
func parseLabelRoute(s string) (labelRoute, error) {
	allow, err := consumer.ParseAllowList(s)
	if err != nil {
		return labelRoute{}, fmt.Errorf("labels prefix: %w", err)
	}
	if allow.Len() != 1 {
		return labelRoute{}, fmt.Errorf("labels prefix %q: give one bucket or bucket/prefix", s)
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(s), "s3://"), "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return labelRoute{bucket: bucket, prefix: prefix}, nil
}

// isLabel reports whether ref is a trimap of the labeled dataset.
func (r *labelRoute) isLabel(ref consumer.ImageRef) bool {
	if r == nil || ref.Bucket != r.bucket {
		return false
	}
	name, ok := strings.CutPrefix(ref.Key, r.prefix+labelTrimapsDir)
	return ok && name != "" && !strings.Contains(name, "/") && strings.EqualFold(path.Ext(name), ".png")
}

// photoKeys returns the keys the photo of trimap key may have, in the order to try them.
func (r *labelRoute) photoKeys(key string) []string {
	name := path.Base(key)
	name = strings.TrimSuffix(name, path.Ext(name))
	keys := make([]string, len(labelPhotoExts))
	for i, ext := range labelPhotoExts {
		keys[i] = r.prefix + labelPhotosDir + name + ext
	}
	return keys
}

func (r *labelRoute) String() string { return r.bucket + "/" + r.prefix }
