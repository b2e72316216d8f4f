package segformer_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/internal/modeltest"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/network"
)

func preset(t *testing.T) model.Config {
	t.Helper()
	cfg, err := model.Preset(model.PresetSegFormer)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestParameterCountMatchesGraph(t *testing.T) {
	cfg := preset(t)
	got, err := network.CountTrainableParams(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got != cfg.NumParams() {
		t.Errorf("graph has %d trainable parameters, analytic count %d", got, cfg.NumParams())
	}
	// B0-sized: the paper gives 3.8M parameters for SegFormer-B0 with 150 classes (3 here).
	if got < 3_500_000 || got > 3_800_000 {
		t.Errorf("%d parameters: not B0-sized", got)
	}
}

func TestShapeTrace(t *testing.T) {
	trace, err := network.TraceShapes(preset(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"input":          {2, 3, 128, 128},
		"stage_1":        {2, 32, 32, 32},
		"stage_2":        {2, 64, 16, 16},
		"stage_3":        {2, 160, 8, 8},
		"stage_4":        {2, 256, 4, 4},
		"decoder_fuse":   {2, 256, 32, 32},
		"decoder_logits": {2, 3, 32, 32},
		"upsample":       {2, 3, 128, 128},
	}
	for _, s := range trace {
		if w, ok := want[s.Name]; ok {
			if !slices.Equal(s.Shape, w) {
				t.Errorf("%s: shape %v, want %v", s.Name, s.Shape, w)
			}
			delete(want, s.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("stages missing from the trace: %v", want)
	}
}

// TestExportParityDynamicBatch: the exported file, run by ONNX Runtime at several batch sizes, computes what the
// GoMLX graph computes.
func TestExportParityDynamicBatch(t *testing.T) {
	rt, backend := modeltest.Runtime(t), modeltest.Backend(t)
	cfg := preset(t)
	net, err := network.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := gomlx.NewStore()
	store.SetParam(gomlx.ParamInitialSeed, int64(5))
	b, err := network.Export(backend, net, store, model.Metadata{Name: "segformer-parity", Version: "0"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if got := sess.Metadata(); got.Config != cfg || got.Params != cfg.NumParams() {
		t.Errorf("metadata config %+v params %d", got.Config, got.Params)
	}
	exec, err := net.InferenceExec(backend, store)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	images := make([]float32, 3*sess.ImageLen())
	for i := range images {
		images[i] = r.Float32()
	}
	for _, batch := range []int{1, 3} {
		in := images[:batch*sess.ImageLen()]
		got, err := sess.Run(context.Background(), in, batch)
		if err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		outs, err := exec.Call(tensors.FromFlatDataAndDimensions(slices.Clone(in), batch, 3, cfg.ImageSize, cfg.ImageSize))
		if err != nil {
			t.Fatal(err)
		}
		want := tensors.MustCopyFlatData[float32](outs[0])
		maxDiff := 0.0
		for i := range want {
			maxDiff = max(maxDiff, math.Abs(float64(got[i]-want[i])))
		}
		t.Logf("batch %d: ONNX Runtime vs GoMLX max abs diff %g", batch, maxDiff)
		if maxDiff > 1e-4 {
			t.Errorf("batch %d: ONNX Runtime vs GoMLX max abs diff %g > 1e-4", batch, maxDiff)
		}
	}
}
