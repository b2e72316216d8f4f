package segformer_test

import (
	"slices"
	"testing"

	"github.com/vitseg/vitseg/model"
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
