package training_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap/zaptest"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/training"
)

// TestPublishGate publishes through the quality gate against a real MinIO registry, each model's metrics
// measured on the same validation photos: the first version is published (nothing to compare with), the
// shipped model beats an untrained one and is published, and the untrained one offered again is rejected,
// compared with the current version re-evaluated on its split, and leaves the current version in place.
func TestPublishGate(t *testing.T) {
	ctx := context.Background()
	log := zaptest.NewLogger(t)
	rt := modeltest.Runtime(t)
	client := testenv.StartMinIO(t).Client(t)
	if err := client.MakeBucket(ctx, "models", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	reg := registry.New(client, "models", "vitseg", registry.WithLogger(log))
	ds, err := training.Load(ctx, training.DirSource{Root: datasetDir(t)}, training.LoadOptions{ImageSize: 128, ValFraction: 0.1, MinPairs: 10})
	if err != nil {
		t.Fatal(err)
	}
	examples := ds.Splits["val"][:12]
	shipped, err := os.ReadFile(filepath.Join("..", "model", "zoo", "small", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	untrained := modeltest.Export(t, "small", "untrained", 1)
	publish := func(b []byte) registry.PublishResult {
		t.Helper()
		meta, err := model.ReadMetadata(b)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU})
		if err != nil {
			t.Fatal(err)
		}
		m, err := training.EvaluateSession(ctx, sess, examples, 16)
		sess.Close()
		if err != nil {
			t.Fatal(err)
		}
		meta.Metrics = m.Map()
		res, err := training.Publish(ctx, reg, rt, training.Publication{ONNX: b, Meta: meta, Split: "val",
			Examples: examples, Dataset: ds.Manifest, CodeVersion: "test"}, log)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	first := publish(untrained)
	better := publish(shipped)
	worse := publish(untrained)
	if !first.Published || !better.Published || worse.Published {
		t.Fatalf("published: first %t, shipped %t, untrained again %t; want true, true, false (%s)",
			first.Published, better.Published, worse.Published, worse.Reason)
	}
	if !worse.Comparable || worse.CurrentVersion != better.Version || !(worse.Value < worse.CurrentValue) {
		t.Errorf("rejection compared %v with %s at %v (comparable %t), want below the shipped version %s",
			worse.Value, worse.CurrentVersion, worse.CurrentValue, worse.Comparable, better.Version)
	}
	cur, err := reg.Current(ctx)
	if err != nil || cur.Version != better.Version {
		t.Errorf("current %v (%v), want %s", cur.Version, err, better.Version)
	}
	stored, err := reg.Get(ctx, worse.Version)
	if err != nil || stored.EvalSplit != training.EvalSplitID("val", examples) || stored.Status != registry.StatusRejected || stored.Reason == "" {
		t.Errorf("stored %+v (%v), want rejected with a reason on split %s", stored, err, training.EvalSplitID("val", examples))
	}
}
