package vit_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/internal/modeltest"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/network"
	"github.com/vitseg/vitseg/model/vit"
)

// openRuntime loads ONNX Runtime (before any GoMLX backend) and returns it with GoMLX's ONNX backend.
func openRuntime(t *testing.T) (*inference.Runtime, compute.Backend) {
	t.Helper()
	return modeltest.Runtime(t), modeltest.Backend(t)
}

func randomImages(r *rand.Rand, n int, c model.Config) []float32 {
	x := make([]float32, n*c.InChannels*c.ImageSize*c.ImageSize)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

func TestExportParityDynamicBatch(t *testing.T) {
	rt, backend := openRuntime(t)
	cfg, err := model.Preset(model.PresetTiny)
	if err != nil {
		t.Fatal(err)
	}
	net, err := vit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := gomlx.NewStore()
	store.SetParam(gomlx.ParamInitialSeed, int64(7))
	onnxBytes, err := vit.Export(backend, net, store, model.Metadata{Name: "parity", Version: "0"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := rt.Load(onnxBytes, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if got := sess.Metadata(); got.Name != "parity" || got.Params != cfg.NumParams() || got.Config != cfg {
		t.Errorf("metadata = %+v", got)
	}

	exec, err := net.InferenceExec(backend, store)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	perImage := cfg.Classes * cfg.ImageSize * cfg.ImageSize
	var firstAlone []float32
	images8 := randomImages(r, 8, cfg)
	for _, batch := range []int{1, 3, 8} {
		images := images8[:batch*sess.ImageLen()]
		got, err := sess.Run(context.Background(), images, batch)
		if err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		in := tensors.FromFlatDataAndDimensions(slices.Clone(images), batch, cfg.InChannels, cfg.ImageSize, cfg.ImageSize)
		outs, err := exec.Call(in)
		if err != nil {
			t.Fatalf("GoMLX batch %d: %v", batch, err)
		}
		want := tensors.MustCopyFlatData[float32](outs[0])
		if d := maxAbsDiff(got, want); d > 1e-4 {
			t.Errorf("batch %d: ONNX Runtime vs GoMLX max abs diff %g > 1e-4", batch, d)
		}
		// An image's logits must not depend on the rest of its batch.
		if batch == 1 {
			firstAlone = got
		} else if d := maxAbsDiff(got[:perImage], firstAlone); d > 1e-5 {
			t.Errorf("batch %d: image 0 differs from its batch-1 result by %g", batch, d)
		}
	}
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

func TestParameterCountsMatchGraph(t *testing.T) {
	tiny := must(model.Preset(model.PresetTiny))
	mlpHead, patch8 := tiny, tiny
	mlpHead.HeadHidden = 64
	patch8.PatchSize = 8
	tests := []struct {
		name string
		cfg  model.Config
	}{
		{"tiny", tiny},
		{"small", must(model.Preset(model.PresetSmall))},
		{"article", must(model.Preset(model.PresetArticle))},
		{"tiny with MLP head", mlpHead},
		{"tiny with patch 8", patch8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := network.CountTrainableParams(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.cfg.NumParams() {
				t.Errorf("graph has %d trainable parameters, analytic count %d", got, tc.cfg.NumParams())
			}
		})
	}
	if mlpHead.NumParams() == tiny.NumParams() {
		t.Error("the MLP head did not change the parameter count")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestArticleShapeTrace(t *testing.T) {
	cfg, err := model.Preset(model.PresetArticle)
	if err != nil {
		t.Fatal(err)
	}
	trace, err := network.TraceShapes(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Stage{
		{Name: "input", Shape: []int{1, 3, 128, 128}},
		{Name: "batch_norm", Shape: []int{1, 3, 128, 128}},
		{Name: "image_to_patches", Shape: []int{1, 64, 768}},
		{Name: "patch_embedding", Shape: []int{1, 64, 768}},
		{Name: "position_embedding", Shape: []int{1, 64, 768}},
	}
	for range 12 {
		want = append(want, model.Stage{Name: "encoder_block", Shape: []int{1, 64, 768}})
	}
	want = append(want,
		model.Stage{Name: "output_projection", Shape: []int{1, 64, 768}},
		model.Stage{Name: "fold", Shape: []int{1, 3, 128, 128}})
	if len(trace) != len(want) {
		t.Fatalf("trace has %d stages, want %d: %v", len(trace), len(want), trace)
	}
	for i := range want {
		if trace[i].Name != want[i].Name || !slices.Equal(trace[i].Shape, want[i].Shape) {
			t.Errorf("stage %d = %v, want %v", i, trace[i], want[i])
		}
	}
}

// TestPatchesRoundTrip checks that folding inverts unfolding and that patches are flattened channel-major, as
// nn.Unfold does: element (c, kh, kw) of patch (i, j) is pixel (c, i*p+kh, j*p+kw).
func TestPatchesRoundTrip(t *testing.T) {
	_, backend := openRuntime(t)
	const c, size, p = 3, 8, 4
	img := make([]float32, c*size*size)
	for i := range img {
		img[i] = float32(i)
	}
	exec, err := NewExec(backend, func(x *Node) (*Node, *Node) {
		patches := vit.ImageToPatches(x, p)
		return patches, vit.PatchesToImage(patches, size, p, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Call(tensors.FromFlatDataAndDimensions(img, 1, c, size, size))
	if err != nil {
		t.Fatal(err)
	}
	patches := tensors.MustCopyFlatData[float32](outs[0])
	back := tensors.MustCopyFlatData[float32](outs[1])
	if !slices.Equal(back, img) {
		t.Error("PatchesToImage(ImageToPatches(x)) != x")
	}
	g := size / p
	for pi := range g {
		for pj := range g {
			for ch := range c {
				for kh := range p {
					for kw := range p {
						got := patches[(pi*g+pj)*c*p*p+ch*p*p+kh*p+kw]
						want := img[ch*size*size+(pi*p+kh)*size+pj*p+kw]
						if got != want {
							t.Fatalf("patch (%d,%d) elem (%d,%d,%d) = %v, want %v", pi, pj, ch, kh, kw, got, want)
						}
					}
				}
			}
		}
	}
	_ = shapes.Make(dtypes.Float32)
}
