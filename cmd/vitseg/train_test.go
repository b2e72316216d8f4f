package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/training"
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

// TestTrainLearnsFromTheUploadsPrefix runs the CronJob's semi-supervised training against a real MinIO: the
// registry's current model is the teacher, the photos users uploaded are the unlabeled data (the pipeline's masks
// under the prefix and a file that is not a photo are left out), and metrics.json records which photos were used,
// what was skipped, the teacher and the pseudo-labeled photos of each epoch.
func TestTrainLearnsFromTheUploadsPrefix(t *testing.T) {
	data := smallDataset(t, 16)
	m := testenv.StartMinIO(t)
	m.MakeBucket("models")
	m.MakeBucket("pets")
	client := m.Client(t)
	ctx := context.Background()
	photos, err := filepath.Glob(filepath.Join(datasetDir(t), "images", "Abyssinian_1*.jpg"))
	if err != nil || len(photos) < 3 {
		t.Fatalf("need 3 photos: %v", err)
	}
	uploads := map[string]string{"uploads/a.jpg": photos[0], "uploads/user2/b.jpg": photos[1], "uploads/masks/a.png": photos[2]}
	for key, file := range uploads {
		if _, err := client.FPutObject(ctx, "pets", key, file, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.PutObject(ctx, "pets", "uploads/readme.txt", strings.NewReader("not a photo"), 11, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	s3 := []string{"--s3-endpoint", m.Endpoint(), "--s3-access-key", m.AccessKey(), "--s3-secret-key", m.SecretKey()}
	base := append([]string{"train", "--data", data, "--preset", "tiny", "--epochs", "2", "--batch-size", "4", "--val-fraction", "0.3",
		"--min-pairs", "10", "--report-examples", "1", "--registry-bucket", "models", "--force"}, s3...)
	if _, stderr, err := runCLI(t, append(base, "--out", t.TempDir())...); err != nil {
		t.Fatalf("first model: %v\n%s", err, stderr)
	}
	out := t.TempDir()
	if _, stderr, err := runCLI(t, append(base, "--out", out, "--unlabeled", "s3://pets/uploads/", "--unlabeled-exclude",
		"uploads/masks/", "--teacher", "current", "--pseudo-threshold", "0.5")...); err != nil {
		t.Fatalf("semi-supervised run: %v\n%s", err, stderr)
	}
	var summary training.Summary
	b, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	u := summary.Unlabeled
	if u == nil || len(u.Photos) != 2 || u.Skipped["not a decodable image"] != 1 || !strings.Contains(u.Teacher, "models/vitseg current version 000001") {
		t.Fatalf("unlabeled summary %+v, want the 2 photos, the text file skipped, the current model as teacher", u)
	}
	for _, p := range u.Photos {
		if strings.HasPrefix(p.Name, "uploads/masks/") || len(p.SHA256) != 64 {
			t.Errorf("photo %+v: a mask, or no hash", p)
		}
	}
	for _, h := range summary.History {
		if h.PseudoExamples != 2 {
			t.Errorf("epoch %d trained on %d pseudo-labeled photos, want 2", h.Epoch, h.PseudoExamples)
		}
	}
}
