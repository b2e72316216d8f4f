package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap/zaptest"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model"
)

// The registry stores model.onnx as opaque bytes (all metadata lives in metadata.json), so the tests upload small
// distinct byte strings instead of real ONNX models.

const testBucket = "models"

type env struct {
	client *minio.Client
	reg    *Registry
}

func newEnv(t *testing.T, opts ...Option) env {
	t.Helper()
	m := testenv.StartMinIO(t)
	m.MakeBucket(testBucket)
	client := m.Client(t)
	opts = append([]Option{WithLogger(zaptest.NewLogger(t))}, opts...)
	return env{client: client, reg: New(client, testBucket, "vitseg", opts...)}
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func fakeModel(i int) []byte {
	return []byte(fmt.Sprintf("not really onnx, model number %d", i))
}

func versionMeta(split string, metrics map[string]float64) VersionMetadata {
	return VersionMetadata{
		Model: model.Metadata{
			Name:       "vitseg",
			ClassNames: []string{"background", "pet", "border"},
			Params:     1234,
		},
		Metrics:     metrics,
		EvalSplit:   split,
		Dataset:     json.RawMessage(`{"pairs":3680,"sha256":"abc"}`),
		CodeVersion: "test",
	}
}

func acc(v float64) map[string]float64 {
	return map[string]float64{"pixel_accuracy": v, "mean_iou": v - 0.2}
}

// rawObject returns an object's bytes and ETag.
func rawObject(t *testing.T, ctx context.Context, c *minio.Client, key string) ([]byte, string) {
	t.Helper()
	obj, err := c.GetObject(ctx, testBucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	info, err := obj.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return data, info.ETag
}

func compactJSON(t *testing.T, data []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func putRaw(t *testing.T, ctx context.Context, c *minio.Client, key string, data []byte) {
	t.Helper()
	if _, err := c.PutObject(ctx, testBucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func wantPointer(t *testing.T, ctx context.Context, r *Registry, version, previous string) {
	t.Helper()
	p, err := r.Current(ctx)
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	if p.Version != version || p.Previous != previous {
		t.Fatalf("pointer = %s (previous %q), want %s (previous %q)", p.Version, p.Previous, version, previous)
	}
	if p.UpdatedAt.IsZero() {
		t.Errorf("pointer has no updated_at")
	}
}

func TestFormatParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"000001", 1, false},
		{"000042", 42, false},
		{"1234567", 1234567, false},
		{"000000", 0, true},
		{"", 0, true},
		{"../x", 0, true},
		{"-00001", 0, true},
		{"00000a", 0, true},
	} {
		got, err := ParseVersion(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseVersion(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if tc.wantErr && !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("ParseVersion(%q) error %v is not ErrInvalidVersion", tc.in, err)
		}
	}
	if got := FormatVersion(7); got != "000007" {
		t.Errorf("FormatVersion(7) = %q", got)
	}
	if FormatVersion(9) >= FormatVersion(10) {
		t.Errorf("lexical order of versions is not numeric")
	}
}

func TestUploadAndVersions(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	r := e.reg

	for i := 1; i <= 3; i++ {
		v, err := r.NextVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := FormatVersion(int64(i)); v != want {
			t.Fatalf("NextVersion = %q, want %q", v, want)
		}
		if err := r.Upload(ctx, v, fakeModel(i), versionMeta("val", acc(0.5)), ""); err != nil {
			t.Fatalf("Upload %s: %v", v, err)
		}
	}

	// A taken version is never overwritten.
	err := r.Upload(ctx, "000002", fakeModel(99), versionMeta("val", acc(0.9)), "")
	if !errors.Is(err, ErrVersionExists) {
		t.Fatalf("Upload to an existing version: %v, want ErrVersionExists", err)
	}
	got, err := r.Model(ctx, "000002")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, fakeModel(2)) {
		t.Fatalf("model 000002 = %q, want the original", got)
	}

	if err := r.Upload(ctx, "../x", fakeModel(1), versionMeta("val", nil), ""); !errors.Is(err, ErrInvalidVersion) {
		t.Fatalf("Upload to an invalid version: %v", err)
	}
	if err := r.Upload(ctx, "000009", nil, versionMeta("val", nil), ""); err == nil {
		t.Fatalf("Upload of an empty model succeeded")
	}

	meta, err := r.Get(ctx, "000003")
	if err != nil {
		t.Fatal(err)
	}
	if meta.Version != "000003" || meta.Status != StatusCandidate || meta.ModelSize != int64(len(fakeModel(3))) ||
		meta.ModelSHA256 == "" || meta.CreatedAt.IsZero() || meta.Model.Params != 1234 ||
		compactJSON(t, meta.Dataset) != `{"pairs":3680,"sha256":"abc"}` {
		t.Fatalf("Get(000003) = %+v", meta)
	}
	if _, err := r.Get(ctx, "000004"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing version: %v, want ErrNotFound", err)
	}
	if _, err := r.Current(ctx); !errors.Is(err, ErrNoCurrent) {
		t.Fatalf("Current without a pointer: %v, want ErrNoCurrent", err)
	}

	// A second registry in the same bucket is independent.
	other := New(e.client, testBucket, "other")
	if v, err := other.NextVersion(ctx); err != nil || v != "000001" {
		t.Fatalf("NextVersion of another model = %q, %v", v, err)
	}
}

func TestUploadReport(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	files := map[string]string{
		"report.json":     `{"pixel_accuracy":0.9}`,
		"plots/loss.svg":  "<svg/>",
		"samples/001.png": "png bytes",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.reg.Publish(ctx, fakeModel(1), versionMeta("val", acc(0.8)), PublishOptions{ReportDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		got, _ := rawObject(t, ctx, e.client, "models/vitseg/"+res.Version+"/report/"+name)
		if string(got) != content {
			t.Errorf("report/%s = %q, want %q", name, got, content)
		}
	}
	// A symlink to the report directory is followed.
	link := filepath.Join(t.TempDir(), "report")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	res2, err := e.reg.Publish(ctx, fakeModel(2), versionMeta("val", acc(0.8)), PublishOptions{ReportDir: link})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rawObject(t, ctx, e.client, "models/vitseg/"+res2.Version+"/report/plots/loss.svg"); string(got) != "<svg/>" {
		t.Errorf("report through a symlink: loss.svg = %q", got)
	}
	if _, err := e.reg.Publish(ctx, fakeModel(3), versionMeta("val", acc(0.8)), PublishOptions{ReportDir: filepath.Join(dir, "missing")}); err == nil {
		t.Errorf("Publish with a missing report directory succeeded")
	}
	if v, err := e.reg.NextVersion(ctx); err != nil || v != "000003" {
		t.Errorf("after a publish with a missing report directory, NextVersion = %q, %v; want 000003 (nothing claimed)", v, err)
	}
	info, err := e.client.StatObject(ctx, testBucket, "models/vitseg/"+res.Version+"/report/plots/loss.svg", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != "image/svg+xml" {
		t.Errorf("content type of loss.svg = %q", info.ContentType)
	}
}

func TestPublishGate(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	r := e.reg
	const pointerKey = "models/vitseg/current.json"

	steps := []struct {
		name          string
		split         string
		metrics       map[string]float64
		gate          Gate
		force         bool
		wantVersion   string
		wantPublished bool
		wantForced    bool
		wantParent    string
	}{
		{"first model, no current", "val", acc(0.80), Gate{}, false, "000001", true, false, ""},
		{"better", "val", acc(0.85), Gate{}, false, "000002", true, false, "000001"},
		{"slightly worse within tolerance", "val", acc(0.845), Gate{Tolerance: 0.01}, false, "000003", true, false, "000002"},
		{"worse beyond tolerance", "val", acc(0.80), Gate{Tolerance: 0.01}, false, "000004", false, false, "000003"},
		{"better on another metric only", "val", map[string]float64{"pixel_accuracy": 0.1, "mean_iou": 0.99}, Gate{}, false, "000005", false, false, "000003"},
		{"different eval split", "test", acc(0.99), Gate{}, false, "000006", false, false, "000003"},
		{"gate metric missing on current", "val", map[string]float64{"pixel_accuracy": 0.9, "article_iou": 0.9}, Gate{Metric: "article_iou"}, false, "000007", false, false, "000003"},
		{"worse but forced", "val", acc(0.50), Gate{}, true, "000008", true, true, "000003"},
		{"different split, forced", "test", acc(0.40), Gate{}, true, "000009", true, true, "000008"},
		{"gate on mean_iou", "test", acc(0.41), Gate{Metric: "mean_iou"}, false, "000010", true, false, "000009"},
	}
	for i, s := range steps {
		beforePointer, beforeETag := []byte(nil), ""
		if i > 0 {
			beforePointer, beforeETag = rawObject(t, ctx, e.client, pointerKey)
		}
		res, err := r.Publish(ctx, fakeModel(i), versionMeta(s.split, s.metrics), PublishOptions{Gate: s.gate, Force: s.force})
		if err != nil {
			t.Fatalf("%s: Publish: %v", s.name, err)
		}
		if res.Version != s.wantVersion || res.Published != s.wantPublished || res.Forced != s.wantForced || res.Reason == "" {
			t.Fatalf("%s: Publish = %+v, want version %s published %v forced %v", s.name, res, s.wantVersion, s.wantPublished, s.wantForced)
		}
		meta, err := r.Get(ctx, res.Version)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus := StatusRejected
		if s.wantPublished {
			wantStatus = StatusPublished
		}
		if meta.Status != wantStatus || meta.Reason != res.Reason || meta.Parent != s.wantParent {
			t.Fatalf("%s: metadata status %q reason %q parent %q; want %q, %q, %q",
				s.name, meta.Status, meta.Reason, meta.Parent, wantStatus, res.Reason, s.wantParent)
		}
		if s.wantPublished {
			wantPointer(t, ctx, r, res.Version, s.wantParent)
		} else {
			after, afterETag := rawObject(t, ctx, e.client, pointerKey)
			if !bytes.Equal(after, beforePointer) || afterETag != beforeETag {
				t.Fatalf("%s: rejected publish changed current.json:\n%s\n->\n%s", s.name, beforePointer, after)
			}
		}
		// Even a rejected model is stored in full.
		model, err := r.Model(ctx, res.Version)
		if err != nil || !bytes.Equal(model, fakeModel(i)) {
			t.Fatalf("%s: Model(%s) = %q, %v", s.name, res.Version, model, err)
		}
		t.Logf("%s: %s", s.name, res.Reason)
	}

	// The rejection reports the comparison.
	if got, err := r.Get(ctx, "000004"); err != nil || got.Reason == "" {
		t.Fatalf("Get(000004) = %+v, %v", got, err)
	}

	// A new version without the gate metric is a caller error and uploads nothing.
	before, _ := r.NextVersion(ctx)
	if _, err := r.Publish(ctx, fakeModel(100), versionMeta("val", map[string]float64{"mean_iou": 1}), PublishOptions{}); !errors.Is(err, ErrMissingMetric) {
		t.Fatalf("Publish without the gate metric: %v, want ErrMissingMetric", err)
	}
	if after, _ := r.NextVersion(ctx); after != before {
		t.Fatalf("a refused publish took version %s", before)
	}
	if _, err := r.Publish(ctx, fakeModel(100), versionMeta("val", acc(1)), PublishOptions{Gate: Gate{Tolerance: -1}}); err == nil {
		t.Fatalf("Publish with a negative tolerance succeeded")
	}

	list, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range list {
		got = append(got, m.Version+":"+m.Status)
	}
	want := []string{
		"000001:published", "000002:published", "000003:published", "000004:rejected", "000005:rejected",
		"000006:rejected", "000007:rejected", "000008:published", "000009:published", "000010:published",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List = %v\nwant   %v", got, want)
	}
}

func TestPromoteRollback(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	r := e.reg

	if _, err := r.Rollback(ctx); !errors.Is(err, ErrNoCurrent) {
		t.Fatalf("Rollback without a pointer: %v, want ErrNoCurrent", err)
	}
	// 000001 published, 000002 rejected, 000003 published, 000004 published.
	for i, a := range []float64{0.8, 0.5, 0.85, 0.9} {
		if _, err := r.Publish(ctx, fakeModel(i), versionMeta("val", acc(a)), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	wantPointer(t, ctx, r, "000004", "000003")

	if _, err := r.Promote(ctx, "000099"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Promote of a missing version: %v, want ErrNotFound", err)
	}
	// A version whose model never arrived (an abandoned upload) is never made current.
	abandoned := VersionMetadata{Version: "000005", Status: StatusCandidate, ModelSize: 10, ModelSHA256: "00"}
	data, _ := json.Marshal(abandoned)
	putRaw(t, ctx, e.client, "models/vitseg/000005/metadata.json", data)
	if _, err := r.Promote(ctx, "000005"); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Promote of an incomplete version: %v, want ErrIncomplete", err)
	}
	wantPointer(t, ctx, r, "000004", "000003")

	// An operator may promote any complete version, also a rejected one.
	p, err := r.Promote(ctx, "000002")
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "000002" || p.Previous != "000004" {
		t.Fatalf("Promote = %+v", p)
	}
	wantPointer(t, ctx, r, "000002", "000004")
	if _, err := r.Promote(ctx, "000002"); err != nil {
		t.Fatalf("Promote of the current version: %v", err)
	}
	wantPointer(t, ctx, r, "000002", "000004")
	if m, _ := r.Get(ctx, "000002"); m.Status != StatusRejected {
		t.Fatalf("Promote changed the status to %q", m.Status)
	}

	// Rollback undoes the promote, then walks back through the published versions.
	for _, want := range []struct{ version, previous string }{
		{"000004", "000003"},
		{"000003", "000001"},
		{"000001", ""},
	} {
		p, err := r.Rollback(ctx)
		if err != nil {
			t.Fatalf("Rollback to %s: %v", want.version, err)
		}
		if p.Version != want.version || p.Previous != want.previous {
			t.Fatalf("Rollback = %+v, want %+v", p, want)
		}
		wantPointer(t, ctx, r, want.version, want.previous)
	}
	if _, err := r.Rollback(ctx); !errors.Is(err, ErrNoPrevious) {
		t.Fatalf("Rollback from the first version: %v, want ErrNoPrevious", err)
	}
	wantPointer(t, ctx, r, "000001", "")

	// A pointer whose previous is unusable falls back to the latest published version before the current one.
	if _, err := r.Promote(ctx, "000004"); err != nil {
		t.Fatal(err)
	}
	if err := e.client.RemoveObject(ctx, testBucket, "models/vitseg/000001/model.onnx", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err = r.Rollback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "000003" || p.Previous != "" {
		t.Fatalf("Rollback with a broken previous = %+v, want 000003 with no previous", p)
	}
}

func TestModelIntegrity(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	res, err := e.reg.Publish(ctx, fakeModel(1), versionMeta("val", acc(0.8)), PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key := "models/vitseg/" + res.Version + "/model.onnx"
	tampered := bytes.Clone(fakeModel(1))
	tampered[0] ^= 0xff
	putRaw(t, ctx, e.client, key, tampered)
	if _, err := e.reg.Model(ctx, res.Version); !errors.Is(err, ErrChecksum) {
		t.Fatalf("Model of a tampered file: %v, want ErrChecksum", err)
	}
	putRaw(t, ctx, e.client, key, append(fakeModel(1), '!'))
	if _, err := e.reg.Model(ctx, res.Version); !errors.Is(err, ErrChecksum) {
		t.Fatalf("Model of a longer file: %v, want ErrChecksum", err)
	}
	putRaw(t, ctx, e.client, key, fakeModel(1)[:5])
	if _, err := e.reg.Model(ctx, res.Version); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Model of a truncated file: %v, want ErrIncomplete", err)
	}
	if err := e.client.RemoveObject(ctx, testBucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.Model(ctx, res.Version); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Model of a missing file: %v, want ErrIncomplete", err)
	}
}

func TestPointerCompareAndSwap(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	r := e.reg
	if _, err := r.Publish(ctx, fakeModel(1), versionMeta("val", acc(0.80)), PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Upload(ctx, "000002", fakeModel(2), versionMeta("val", acc(0.95)), ""); err != nil {
		t.Fatal(err)
	}

	t.Run("stale etag", func(t *testing.T) {
		_, etag, err := r.readPointer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Promote(ctx, "000002"); err != nil {
			t.Fatal(err)
		}
		if err := r.writePointer(ctx, Pointer{Version: "000001"}, etag); !errors.Is(err, errStale) {
			t.Fatalf("write with a stale ETag: %v, want errStale", err)
		}
		if err := r.writePointer(ctx, Pointer{Version: "000001"}, ""); !errors.Is(err, errStale) {
			t.Fatalf("create over an existing pointer: %v, want errStale", err)
		}
		wantPointer(t, ctx, r, "000002", "000001")
		if _, err := r.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		wantPointer(t, ctx, r, "000001", "")
	})

	t.Run("gate runs again after a lost race", func(t *testing.T) {
		// Between this publisher's gate (against 000001 at 0.80) and its pointer write, another process
		// promotes 000002 (0.95): the retry compares with 000002 and rejects.
		other := New(e.client, testBucket, "vitseg")
		calls := 0
		r.beforePointerWrite = func() {
			calls++
			if calls == 1 {
				if _, err := other.Promote(ctx, "000002"); err != nil {
					t.Error(err)
				}
			}
		}
		defer func() { r.beforePointerWrite = nil }()
		res, err := r.Publish(ctx, fakeModel(3), versionMeta("val", acc(0.85)), PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Published || res.CurrentVersion != "000002" || res.CurrentValue != 0.95 || calls != 1 {
			t.Fatalf("Publish after a lost race = %+v (pointer writes tried: %d)", res, calls)
		}
		wantPointer(t, ctx, r, "000002", "000001")
		if m, err := r.Get(ctx, res.Version); err != nil || m.Status != StatusRejected || m.Parent != "000002" {
			t.Fatalf("metadata after a lost race = %+v, %v", m, err)
		}
	})

	t.Run("bounded retries", func(t *testing.T) {
		r := New(e.client, testBucket, "vitseg", WithMaxAttempts(3))
		other := New(e.client, testBucket, "vitseg")
		toggle := []string{"000002", "000001"} // The pointer starts at 000002.
		calls := 0
		r.beforePointerWrite = func() {
			calls++
			if _, err := other.Promote(ctx, toggle[calls%2]); err != nil {
				t.Error(err)
			}
		}
		res, err := r.Publish(ctx, fakeModel(4), versionMeta("val", acc(0.99)), PublishOptions{})
		if !errors.Is(err, ErrConflict) || calls != 3 {
			t.Fatalf("Publish against a pointer that keeps changing = %+v, %v after %d tries; want ErrConflict after 3", res, err, calls)
		}
		list, err := r.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last := list[len(list)-1]
		if last.Status != StatusCandidate {
			t.Fatalf("version of the failed publish has status %q, want candidate", last.Status)
		}
	})
}

func TestConcurrentPublish(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const publishers = 4
	var wg sync.WaitGroup
	results := make([]PublishResult, publishers)
	errs := make([]error, publishers)
	for i := range publishers {
		wg.Go(func() {
			r := New(e.client, testBucket, "vitseg")
			results[i], errs[i] = r.Publish(ctx, fakeModel(i), versionMeta("val", acc(0.5)), PublishOptions{})
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("publisher %d: %v", i, errs[i])
		}
		if seen[res.Version] {
			t.Fatalf("two publishers got version %s", res.Version)
		}
		seen[res.Version] = true
		// Equal metrics always pass the gate.
		if !res.Published {
			t.Fatalf("publisher %d: %+v", i, res)
		}
		m, err := e.reg.Model(ctx, res.Version)
		if err != nil || !bytes.Equal(m, fakeModel(i)) {
			t.Fatalf("publisher %d: model %s = %q, %v", i, res.Version, m, err)
		}
	}
	p, err := e.reg.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !seen[p.Version] || (p.Previous != "" && !seen[p.Previous]) {
		t.Fatalf("pointer %+v names a version no publisher made", p)
	}
	// Each successful pointer write was based on the pointer before it, so the previous links from the last
	// publisher cover exactly the versions whose Parent was current at the time: walk the Parent chain.
	chain := 0
	for v := p.Version; v != ""; chain++ {
		m, err := e.reg.Get(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		v = m.Parent
	}
	if chain != publishers {
		t.Fatalf("parent chain from the current version has %d versions, want %d", chain, publishers)
	}
}

func TestWatch(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	r := e.reg
	if _, err := r.Publish(ctx, fakeModel(1), versionMeta("val", acc(0.8)), PublishOptions{}); err != nil {
		t.Fatal(err)
	}

	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	loaded := make(chan string, 10)
	failOnce := map[string]bool{"000003": true}
	done := make(chan error, 1)
	go func() {
		// The caller already serves 000001.
		done <- r.Watch(watchCtx, "000001", 50*time.Millisecond, func(ctx context.Context, p Pointer) error {
			if failOnce[p.Version] {
				delete(failOnce, p.Version)
				loaded <- "failed " + p.Version
				return errors.New("load failed")
			}
			if _, err := r.Model(ctx, p.Version); err != nil {
				return err
			}
			loaded <- p.Version
			return nil
		})
	}()
	next := func() string {
		t.Helper()
		select {
		case v := <-loaded:
			return v
		case <-time.After(10 * time.Second):
			t.Fatal("Watch did not report a new version")
			return ""
		}
	}
	for _, want := range []struct {
		metric float64
		calls  []string
	}{
		{0.9, []string{"000002"}},
		{0.95, []string{"failed 000003", "000003"}}, // A failing load is retried at the next tick.
	} {
		if _, err := r.Publish(ctx, fakeModel(2), versionMeta("val", acc(want.metric)), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, c := range want.calls {
			if got := next(); got != c {
				t.Fatalf("Watch called back with %q, want %q", got, c)
			}
		}
	}
	if _, err := r.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "000002" {
		t.Fatalf("Watch after rollback: %q, want 000002", got)
	}
	// No change, no call.
	select {
	case v := <-loaded:
		t.Fatalf("Watch called back with %q without a change", v)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v, want context.Canceled", err)
	}
	if err := r.Watch(ctx, "", 0, nil); err == nil {
		t.Fatalf("Watch with a zero interval succeeded")
	}
}

// TestPublishGateWithBaseline: the current version re-measured on the new evaluation split is compared instead
// of its stored metrics (from an older split), as long as it is still current.
func TestPublishGateWithBaseline(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	first, err := e.reg.Publish(ctx, fakeModel(1), versionMeta("val@old", acc(0.90)), PublishOptions{})
	if err != nil || !first.Published {
		t.Fatalf("first publish: %+v, %v", first, err)
	}
	tests := []struct {
		name     string
		baseline *Baseline
		value    float64
		want     bool
	}{
		{"no baseline: splits differ, refused", nil, 0.95, false},
		{"baseline worse than new: published", &Baseline{Version: first.Version, Metrics: acc(0.70)}, 0.75, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.reg.Publish(ctx, fakeModel(10+i), versionMeta("val@new", acc(tc.value)), PublishOptions{Gate: Gate{Baseline: tc.baseline}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Published != tc.want {
				t.Errorf("published = %v, want %v (%s)", res.Published, tc.want, res.Reason)
			}
		})
	}
	// A baseline of a version that is no longer current is ignored: the stored split differs, so refused.
	res, err := e.reg.Publish(ctx, fakeModel(20), versionMeta("val@newer", acc(0.99)), PublishOptions{Gate: Gate{Baseline: &Baseline{Version: first.Version, Metrics: acc(0.1)}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Published {
		t.Errorf("stale baseline used: %s", res.Reason)
	}
}

// TestWatchRefused: a version the callback refuses (ErrRefused) is offered once, not again until the pointer
// moves; when the pointer comes back to it, it is offered again.
func TestWatchRefused(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	r := e.reg
	publish := func(metric float64) string {
		t.Helper()
		res, err := r.Publish(ctx, fakeModel(1), versionMeta("val", acc(metric)), PublishOptions{})
		if err != nil || !res.Published {
			t.Fatalf("publish: %+v, %v", res, err)
		}
		return res.Version
	}
	v1 := publish(0.8)
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	offered := make(chan string, 10)
	refuse := map[string]bool{}
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		done <- r.Watch(watchCtx, v1, 20*time.Millisecond, func(_ context.Context, p Pointer) error {
			offered <- p.Version
			mu.Lock()
			defer mu.Unlock()
			if refuse[p.Version] {
				return Refuse(errors.New("image_size differs"))
			}
			return nil
		})
	}()
	mu.Lock()
	refuse["000002"] = true
	mu.Unlock()
	v2 := publish(0.9)
	if got := <-offered; got != v2 {
		t.Fatalf("offered %q, want %q", got, v2)
	}
	select {
	case v := <-offered:
		t.Fatalf("refused version offered again: %q", v)
	case <-time.After(300 * time.Millisecond): // 15 ticks.
	}
	v3 := publish(0.95)
	if got := <-offered; got != v3 {
		t.Fatalf("offered %q after the pointer moved, want %q", got, v3)
	}
	if _, err := r.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-offered; got != v2 {
		t.Fatalf("after rollback offered %q, want the refused %q again", got, v2)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v, want context.Canceled", err)
	}
}
