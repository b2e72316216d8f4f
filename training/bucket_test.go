package training_test

import (
	"context"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/training"
)

// TestLoadFromBucketMatchesDirectory uploads a small labeled dataset (with a bad pair) to a real MinIO server and
// reads it back through BucketSource: the same pairs, masks and manifest hash as from the directory.
func TestLoadFromBucketMatchesDirectory(t *testing.T) {
	files := map[string][]byte{
		"images/a_1.png":              pngBytes(t, photo(30, 20)),
		"images/a_2.png":              pngBytes(t, photo(24, 24)),
		"images/a_3.png":              pngBytes(t, photo(24, 24)),
		"images/orphan.png":           pngBytes(t, photo(24, 24)),
		"annotations/trimaps/a_1.png": pngBytes(t, trimap(30, 20)),
		"annotations/trimaps/a_2.png": pngBytes(t, trimap(24, 24)),
		"annotations/trimaps/a_3.png": pngBytes(t, trimap(24, 24)),
		"annotations/trainval.txt":    []byte("a_1 1 1 1\na_2 1 1 1\n"),
		"annotations/test.txt":        []byte("a_3 1 1 1\n"),
	}
	dir := writeDataset(t, files)
	m := testenv.StartMinIO(t)
	m.MakeBucket("labeled")
	client := m.Client(t)
	ctx := context.Background()
	n, err := training.UploadDataset(ctx, client, dir, "labeled", "pets/v1", false)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(files) {
		t.Errorf("uploaded %d objects, want %d", n, len(files))
	}
	opts := training.LoadOptions{ImageSize: 16, MinPairs: 3, Limits: imaging.DefaultLimits()}
	fromDir, err := training.Load(ctx, training.DirSource{Root: dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	fromBucket, err := training.Load(ctx, training.BucketSource{Client: client, Bucket: "labeled", Prefix: "pets/v1"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if fromBucket.Manifest.SHA256 != fromDir.Manifest.SHA256 || fromBucket.Manifest.Pairs != 3 {
		t.Errorf("bucket manifest %+v, directory manifest %+v", fromBucket.Manifest, fromDir.Manifest)
	}
	if fromBucket.Skipped["missing trimap"] != 1 {
		t.Errorf("skipped = %v, want the orphan image counted as missing trimap", fromBucket.Skipped)
	}
	if len(fromBucket.Splits[training.SplitTest]) != 1 {
		t.Errorf("test split has %d pairs, want 1", len(fromBucket.Splits[training.SplitTest]))
	}
	for split, exs := range fromDir.Splits {
		for i, ex := range exs {
			got := fromBucket.Splits[split][i]
			if got.Name != ex.Name || string(got.Mask) != string(ex.Mask) {
				t.Errorf("%s[%d]: bucket %s differs from directory %s", split, i, got.Name, ex.Name)
			}
		}
	}
}

// TestLoadOnlyScoredLabels: with BucketSource.Scored, only the pairs whose trimap serve scored, with the ETag
// the trimap has now, are loaded; a trimap relabelled since it was scored, or never scored, is left out.
func TestLoadOnlyScoredLabels(t *testing.T) {
	files := map[string][]byte{
		"images/a_1.png":              pngBytes(t, photo(24, 24)),
		"images/a_2.png":              pngBytes(t, photo(24, 24)),
		"images/a_3.png":              pngBytes(t, photo(24, 24)),
		"annotations/trimaps/a_1.png": pngBytes(t, trimap(24, 24)),
		"annotations/trimaps/a_2.png": pngBytes(t, trimap(24, 24)),
		"annotations/trimaps/a_3.png": pngBytes(t, trimap(24, 24)),
	}
	m := testenv.StartMinIO(t)
	m.MakeBucket("labeled")
	m.MakeBucket("models")
	client := m.Client(t)
	ctx := context.Background()
	if _, err := training.UploadDataset(ctx, client, writeDataset(t, files), "labeled", "pets", false); err != nil {
		t.Fatal(err)
	}
	reg := registry.New(client, "models", "vitseg")
	for name, etag := range map[string]string{"a_1": "", "a_2": "0123456789abcdef0123456789abcdef"} {
		key := "pets/annotations/trimaps/" + name + ".png"
		if etag == "" {
			info, err := client.StatObject(ctx, "labeled", key, minio.StatObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			etag = info.ETag
		}
		if _, err := reg.MarkScored(ctx, registry.ScoredLabel{Bucket: "labeled", Key: key, ETag: etag}); err != nil {
			t.Fatal(err)
		}
	}
	scored, err := reg.ScoredLabels(ctx, "labeled", "pets/")
	if err != nil {
		t.Fatal(err)
	}
	src := training.BucketSource{Client: client, Bucket: "labeled", Prefix: "pets", Scored: scored}
	ds, err := training.Load(ctx, src, training.LoadOptions{ImageSize: 16, MinPairs: 1, Limits: imaging.DefaultLimits()})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Manifest.Pairs != 1 || ds.Skipped["label not scored yet"] != 2 {
		t.Errorf("%d pairs, skipped %v; want a_1 only, a_2 (relabelled) and a_3 (never scored) left out", ds.Manifest.Pairs, ds.Skipped)
	}
	for _, exs := range ds.Splits {
		for _, ex := range exs {
			if ex.Name != "a_1" {
				t.Errorf("loaded %s, want a_1 only", ex.Name)
			}
		}
	}
}
