package network_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/network"
)

// TestExportParityDynamicBatch: for every architecture and option, the exported file run by ONNX Runtime at
// several batch sizes computes what the GoMLX graph computes, carries its config in its metadata, and an image's
// logits do not depend on the rest of its batch.
func TestExportParityDynamicBatch(t *testing.T) {
	rt, backend := modeltest.Runtime(t), modeltest.Backend(t)
	tiny := mustPreset(t, model.PresetTiny)
	with := func(change func(*model.Config)) model.Config {
		c := tiny
		change(&c)
		return c
	}
	tests := []struct {
		name    string
		cfg     model.Config
		batches []int
	}{
		{"vit tiny", tiny, []int{1, 3, 8}},
		{"vit MLP head", with(func(c *model.Config) { c.HeadHidden = 48 }), []int{1, 2}},
		{"vit patch 8", with(func(c *model.Config) { c.PatchSize = 8 }), []int{1, 2}},
		{"vit drop path", with(func(c *model.Config) { c.DropPath = 0.3 }), []int{1, 2}},
		{"vit conv stem", with(func(c *model.Config) { c.Stem = model.StemConv }), []int{1, 3}},
		{"vit unet decoder", with(func(c *model.Config) { c.Stem, c.Decoder = model.StemConv, model.DecoderUNet }), []int{1, 3}},
		{"vit unet-linear decoder", with(func(c *model.Config) { c.Stem, c.Decoder = model.StemConv, model.DecoderUNetLinear }), []int{1, 2}},
		{"segformer b0", mustPreset(t, model.PresetSegFormer), []int{1, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			net, err := network.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			store := gomlx.NewStore()
			store.SetParam(gomlx.ParamInitialSeed, int64(7))
			b, err := network.Export(backend, net, store, model.Metadata{Name: tc.name, Version: "0"})
			if err != nil {
				t.Fatal(err)
			}
			sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			if got := sess.Metadata(); got.Name != tc.name || got.Config != cfg || got.Params != cfg.NumParams() {
				t.Errorf("metadata %+v, want name %q, config %+v, %d params", got, tc.name, cfg, cfg.NumParams())
			}
			exec, err := net.InferenceExec(backend, store)
			if err != nil {
				t.Fatal(err)
			}
			largest := slices.Max(tc.batches)
			images := make([]float32, largest*sess.ImageLen())
			r := rand.New(rand.NewPCG(1, 2))
			for i := range images {
				images[i] = r.Float32()
			}
			perImage := cfg.Classes * cfg.ImageSize * cfg.ImageSize
			var firstAlone []float32
			for _, batch := range tc.batches {
				in := images[:batch*sess.ImageLen()]
				got, err := sess.Run(context.Background(), in, batch)
				if err != nil {
					t.Fatalf("batch %d: %v", batch, err)
				}
				outs, err := exec.Call(tensors.FromFlatDataAndDimensions(slices.Clone(in), batch, cfg.InChannels, cfg.ImageSize, cfg.ImageSize))
				if err != nil {
					t.Fatalf("GoMLX batch %d: %v", batch, err)
				}
				if slices.Min(got) == slices.Max(got) {
					t.Fatalf("batch %d: every logit is %g (a degenerate network)", batch, got[0])
				}
				d := maxAbsDiff(got, tensors.MustCopyFlatData[float32](outs[0]))
				t.Logf("batch %d: ONNX Runtime vs GoMLX max abs diff %g", batch, d)
				if d > 1e-4 {
					t.Errorf("batch %d: ONNX Runtime vs GoMLX max abs diff %g > 1e-4", batch, d)
				}
				if firstAlone == nil {
					firstAlone = got[:perImage]
				} else if d := maxAbsDiff(got[:perImage], firstAlone); d > 1e-5 {
					t.Errorf("batch %d: image 0 differs from its batch-%d result by %g", batch, tc.batches[0], d)
				}
			}
		})
	}
}

func mustPreset(t *testing.T, name string) model.Config {
	t.Helper()
	cfg, err := model.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}
