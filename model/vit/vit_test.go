package vit_test

import (
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
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

func TestParameterCountsMatchGraph(t *testing.T) {
	tiny := must(model.Preset(model.PresetTiny))
	mlpHead, patch8, convStem := tiny, tiny, tiny
	mlpHead.HeadHidden = 64
	patch8.PatchSize = 8
	convStem.Stem = model.StemConv
	smallConv := must(model.Preset(model.PresetSmall))
	smallConv.Stem = model.StemConv
	tinyUNet, smallUNet, smallUNetLinear := convStem, smallConv, smallConv
	tinyUNet.Decoder, smallUNet.Decoder, smallUNetLinear.Decoder = model.DecoderUNet, model.DecoderUNet, model.DecoderUNetLinear
	tests := []struct {
		name string
		cfg  model.Config
	}{
		{"tiny", tiny},
		{"small", must(model.Preset(model.PresetSmall))},
		{"article", must(model.Preset(model.PresetArticle))},
		{"tiny with MLP head", mlpHead},
		{"tiny with patch 8", patch8},
		{"tiny with conv stem", convStem},
		{"small with conv stem", smallConv},
		{"tiny with unet decoder", tinyUNet},
		{"small with unet decoder", smallUNet},
		{"small with unet-linear decoder", smallUNetLinear},
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

// TestUNetDecoderShapeTrace: the decoder doubles the token grid to the image size, each stage as wide as
// model.Config.DecoderStages says, and ends in full-size logits.
func TestUNetDecoderShapeTrace(t *testing.T) {
	cfg := must(model.Preset(model.PresetSmall))
	cfg.Stem, cfg.Decoder = model.StemConv, model.DecoderUNet
	trace, err := network.TraceShapes(cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []model.Stage
	for _, s := range trace {
		if s.Name == "decoder_stage" || s.Name == "logits" {
			got = append(got, s)
		}
	}
	want := []model.Stage{
		{Name: "decoder_stage", Shape: []int{2, 64, 16, 16}},
		{Name: "decoder_stage", Shape: []int{2, 32, 32, 32}},
		{Name: "decoder_stage", Shape: []int{2, 16, 64, 64}},
		{Name: "decoder_stage", Shape: []int{2, 16, 128, 128}},
		{Name: "logits", Shape: []int{2, 3, 128, 128}},
	}
	if len(got) != len(want) {
		t.Fatalf("decoder stages %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Name != want[i].Name || !slices.Equal(got[i].Shape, want[i].Shape) {
			t.Errorf("stage %d = %v, want %v", i, got[i], want[i])
		}
	}
	stages := cfg.DecoderStages()
	wantIn := []int{256 + 128, 64 + 64, 32 + 32, 16 + 3}
	for i, s := range stages {
		if s.In != wantIn[i] {
			t.Errorf("stage %d input width %d, want %d", i, s.In, wantIn[i])
		}
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
