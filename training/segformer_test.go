package training_test

import (
	"context"
	"math"
	"testing"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/training"
)

// TestTrainSegFormer: SegFormer trains on GoMLX's ONNX Runtime backend (every operation of its graph has a
// gradient there) and its loss goes down.
func TestTrainSegFormer(t *testing.T) {
	b := backend(t)
	set := loadSmall(t, 8)
	cfg, err := model.Preset(model.PresetSegFormer)
	if err != nil {
		t.Fatal(err)
	}
	recipe := training.DefaultRecipe()
	recipe.Epochs, recipe.BatchSize, recipe.LearningRate = 3, 4, 1e-3
	tr, err := training.NewTrainer(b, cfg, recipe, nil)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := tr.Train(context.Background(), set, set[:4], 128)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range hist {
		if math.IsNaN(s.TrainLoss) || s.ValPixelAccuracy <= 0 {
			t.Errorf("epoch %d: loss %g, val pixel accuracy %g", s.Epoch, s.TrainLoss, s.ValPixelAccuracy)
		}
	}
	if first, last := hist[0].TrainLoss, hist[len(hist)-1].TrainLoss; !(last < first) {
		t.Errorf("loss did not go down: %.4f -> %.4f", first, last)
	}
}
