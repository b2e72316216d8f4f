package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/pipeline"
)

// TestModelSwapMidStream: a version published to the registry while images flow is picked up between batches;
// every image is processed exactly once; a corrupt version is refused and the old one keeps serving.
func TestModelSwapMidStream(t *testing.T) {
	s := startStack(t)
	s.minio.MakeBucket("models")
	reg := registry.New(s.s3, "models", "vitseg")
	ctx := context.Background()
	publish := func(b []byte, acc float64) string {
		t.Helper()
		res, err := reg.Publish(ctx, b, registry.VersionMetadata{Metrics: map[string]float64{"pixel_accuracy": acc},
			EvalSplit: "val@test"}, registry.PublishOptions{})
		if err != nil || !res.Published {
			t.Fatalf("publish: %+v, %v", res, err)
		}
		return res.Version
	}
	v1 := publish(exportTiny(t, "local", 1), 0.5)
	results := s.collect(t, resultTopic)
	in := s.startPipeline(t, pipeline.ModelSource{Registry: reg, PollInterval: 100 * time.Millisecond}, testLogger(t))

	s.upload(t, names("before", 8)...)
	waitFor(t, 60*time.Second, "8 results", func() bool { return len(results.snapshot()) >= 8 })
	v2 := publish(exportTiny(t, "local", 2), 0.6)
	waitFor(t, 30*time.Second, "version "+v2+" in use", func() bool { return in.p.Status().ModelVersion == v2 })
	s.upload(t, names("after", 8)...)
	waitFor(t, 60*time.Second, "16 results", func() bool { return len(results.snapshot()) >= 16 })

	// A corrupt version made current is refused; v2 keeps serving.
	if err := reg.Upload(ctx, "000099", []byte("not an onnx model"), registry.VersionMetadata{
		Metrics: map[string]float64{"pixel_accuracy": 0.9}, EvalSplit: "val@test", Status: registry.StatusPublished}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Promote(ctx, "000099"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the reload failure to be counted", func() bool { return counter(t, in, "vitseg_model_reloads_total", "failed") >= 1 })
	s.upload(t, names("corrupt", 4)...)
	waitFor(t, 60*time.Second, "20 results", func() bool { return len(results.snapshot()) >= 20 })
	time.Sleep(300 * time.Millisecond)

	perSource := map[string]int{}
	versions := map[string]string{}
	for _, ev := range decodeResults(t, results.snapshot()) {
		perSource[ev.Source.Key]++
		versions[ev.Source.Key] = ev.Model.Version
	}
	if len(perSource) != 20 {
		t.Errorf("%d sources processed, want 20", len(perSource))
	}
	for k, n := range perSource {
		if n != 1 {
			t.Errorf("%s processed %d times, want once", k, n)
		}
	}
	for _, n := range names("before", 8) {
		if v := versions[uploads+n]; v != v1 {
			t.Errorf("%s served by %q, want %s", n, v, v1)
		}
	}
	for _, n := range append(names("after", 8), names("corrupt", 4)...) {
		if v := versions[uploads+n]; v != v2 {
			t.Errorf("%s served by %q, want %s", n, v, v2)
		}
	}
	if v := in.p.Status().ModelVersion; v != v2 {
		t.Errorf("serving %s after the corrupt promote, want %s", v, v2)
	}
}

// counter returns the value of counter name with a label of value label ("": the counter without labels).
func counter(t *testing.T, in *instance, name, label string) float64 {
	t.Helper()
	families, err := in.p.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label == "" { // A metric without labels.
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestModelSwapImageSizeRefused: a version with another image_size made current while the pipeline serves is
// refused (counted as refused_image_size) instead of being swapped in and failing every image decoded for the
// serving size; the old version keeps serving and nothing is dead-lettered.
func TestModelSwapImageSizeRefused(t *testing.T) {
	s := startStack(t)
	s.minio.MakeBucket("models")
	reg := registry.New(s.s3, "models", "vitseg")
	ctx := context.Background()
	publish := func(b []byte) string {
		t.Helper()
		res, err := reg.Publish(ctx, b, registry.VersionMetadata{Metrics: map[string]float64{"pixel_accuracy": 0.5},
			EvalSplit: "val@test"}, registry.PublishOptions{})
		if err != nil || !res.Published {
			t.Fatalf("publish: %+v, %v", res, err)
		}
		return res.Version
	}
	v1 := publish(exportTiny(t, "local", 1))
	results, dead := s.collect(t, resultTopic), s.collect(t, dlqTopic)
	in := s.startPipeline(t, pipeline.ModelSource{Registry: reg, PollInterval: 100 * time.Millisecond}, testLogger(t))
	s.upload(t, names("before", 4)...)
	waitFor(t, 60*time.Second, "4 results", func() bool { return len(results.snapshot()) >= 4 })

	smaller, err := model.Preset(model.PresetTiny)
	if err != nil {
		t.Fatal(err)
	}
	smaller.ImageSize /= 2
	publish(modeltest.ExportConfig(t, smaller, "local", 2))
	waitFor(t, 30*time.Second, "the swap to be refused", func() bool {
		return counter(t, in, "vitseg_model_reloads_total", "refused_image_size") >= 1
	})
	s.upload(t, names("after", 4)...)
	waitFor(t, 60*time.Second, "8 results", func() bool { return len(results.snapshot()) >= 8 })
	time.Sleep(300 * time.Millisecond) // Two more polls: the refused version is not loaded again.

	for _, ev := range decodeResults(t, results.snapshot()) {
		if ev.Model.Version != v1 {
			t.Errorf("%s served by %q, want %s", ev.Source.Key, ev.Model.Version, v1)
		}
	}
	if n := len(dead.snapshot()); n != 0 {
		t.Errorf("%d dead letters, want none", n)
	}
	if n := counter(t, in, "vitseg_model_reloads_total", "refused_image_size"); n != 1 {
		t.Errorf("refused_image_size = %v, want 1 (a refused version is not retried)", n)
	}
	if v := in.p.Status().ModelVersion; v != v1 {
		t.Errorf("serving %s, want %s", v, v1)
	}
}
