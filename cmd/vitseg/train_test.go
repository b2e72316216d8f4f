package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/testenv"
	"github.com/vitseg/vitseg/model/registry"
)

// smallDataset links n real pairs of the sample (and split files naming them) into a temp dir.
func smallDataset(t *testing.T, n int) string {
	t.Helper()
	src := datasetDir(t)
	dir := t.TempDir()
	for _, sub := range []string{"images", "annotations/trimaps"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	matches, err := filepath.Glob(filepath.Join(src, "annotations", "trimaps", "Bengal_*.png"))
	if err != nil || len(matches) < n {
		t.Fatalf("need %d trimaps, found %d (%v)", n, len(matches), err)
	}
	sort.Strings(matches)
	var trainval, test []string
	for i, m := range matches[:n] {
		name := strings.TrimSuffix(filepath.Base(m), ".png")
		for _, link := range [][2]string{
			{filepath.Join(src, "images", name+".jpg"), filepath.Join(dir, "images", name+".jpg")},
			{m, filepath.Join(dir, "annotations", "trimaps", name+".png")},
		} {
			abs, _ := filepath.Abs(link[0])
			if err := os.Symlink(abs, link[1]); err != nil {
				t.Fatal(err)
			}
		}
		if i%4 == 0 {
			test = append(test, name+" 1 1 1")
		} else {
			trainval = append(trainval, name+" 1 1 1")
		}
	}
	write := func(name string, lines []string) {
		if err := os.WriteFile(filepath.Join(dir, "annotations", name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("trainval.txt", trainval)
	write("test.txt", test)
	return dir
}

// TestTrainPublishesThroughTheQualityGate runs the training job as the CronJob does, against a real MinIO
// registry: the first model is published; a worse one (learning rate ~0) is rejected and current.json stays;
// --force publishes it; the report and metadata are in the bucket.
func TestTrainPublishesThroughTheQualityGate(t *testing.T) {
	data := smallDataset(t, 24)
	m := testenv.StartMinIO(t)
	m.MakeBucket("models")
	s3 := []string{"--s3-endpoint", m.Endpoint(), "--s3-access-key", m.AccessKey(), "--s3-secret-key", m.SecretKey()}
	train := func(name string, extra ...string) string {
		t.Helper()
		args := append([]string{"train", "--data", data, "--preset", "tiny", "--epochs", "2", "--batch-size", "4",
			"--val-fraction", "0.3", "--min-pairs", "10", "--report-examples", "2", "--out", filepath.Join(t.TempDir(), name),
			"--registry-bucket", "models", "--gate-tolerance", "0"}, s3...)
		out, stderr, err := runCLI(t, append(args, extra...)...)
		if err != nil {
			t.Fatalf("train %s: %v\n%s", name, err, stderr)
		}
		return out
	}
	if out := train("first", "--lr", "2e-3"); !strings.Contains(out, "version 000001 published") {
		t.Fatalf("first run: %s", out)
	}
	if out := train("worse", "--lr", "1e-12", "--seed", "2"); !strings.Contains(out, "version 000002 rejected") {
		t.Fatalf("a model that did not learn was not rejected: %s", out)
	}
	reg := registry.New(m.Client(t), "models", "vitseg")
	ctx := context.Background()
	cur, err := reg.Current(ctx)
	if err != nil || cur.Version != "000001" {
		t.Fatalf("current = %+v, %v; want 000001", cur, err)
	}
	if out := train("forced", "--lr", "1e-12", "--seed", "3", "--force"); !strings.Contains(out, "version 000003 published") {
		t.Fatalf("--force did not publish: %s", out)
	}
	versions, err := reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, v := range versions {
		statuses = append(statuses, v.Version+":"+v.Status)
		if v.Dataset == nil || !strings.HasPrefix(v.EvalSplit, "val@") {
			t.Errorf("version %s: dataset manifest %s, eval split %q", v.Version, v.Dataset, v.EvalSplit)
		}
	}
	if got := strings.Join(statuses, " "); got != "000001:published 000002:rejected 000003:published" {
		t.Errorf("versions: %s", got)
	}
	for obj := range m.Client(t).ListObjects(ctx, "models", minioListReport("models/vitseg/000001/report/")) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		statuses = append(statuses, obj.Key)
	}
	if !strings.Contains(fmt.Sprint(statuses), "predictions.png") {
		t.Errorf("report not uploaded with version 000001: %v", statuses)
	}
	out, _, err := runCLI(t, append([]string{"models", "list", "--registry-bucket", "models"}, s3...)...)
	if err != nil || !strings.Contains(out, "rejected") {
		t.Errorf("models list: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, append([]string{"models", "rollback", "--registry-bucket", "models"}, s3...)...); err != nil {
		t.Fatal(err)
	}
	if cur, _ := reg.Current(ctx); cur.Version != "000001" {
		t.Errorf("after rollback current = %s, want 000001", cur.Version)
	}
}

func minioListReport(prefix string) minio.ListObjectsOptions {
	return minio.ListObjectsOptions{Prefix: prefix, Recursive: true}
}

// TestTrainOnPureGoBackend: the pure-Go GoMLX backend trains, and the result is still exported through ONNX
// Runtime and evaluated.
func TestTrainOnPureGoBackend(t *testing.T) {
	data := smallDataset(t, 16)
	out := filepath.Join(t.TempDir(), "run")
	stdout, stderr, err := runCLI(t, "train", "--data", data, "--preset", "tiny", "--epochs", "1", "--batch-size", "4",
		"--backend", "go:ops_sequential", "--val-fraction", "0.3", "--min-pairs", "10", "--report-examples", "1",
		"--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "model.onnx") {
		t.Errorf("stdout: %s", stdout)
	}
	if _, _, err := runCLI(t, "eval", "--model", filepath.Join(out, "model.onnx"), "--data", data, "--split", "test",
		"--min-pairs", "10"); err != nil {
		t.Fatal(err)
	}
}
