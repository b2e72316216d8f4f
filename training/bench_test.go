package training_test

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/training"
)

// BenchmarkTrainStep measures training steps of batch 16 on random images; images/s is reported.
func BenchmarkTrainStep(b *testing.B) {
	for _, preset := range []string{model.PresetSmall, model.PresetArticle} {
		b.Run(preset, func(b *testing.B) {
			be := modeltest.Backend(b)
			cfg, err := model.Preset(preset)
			if err != nil {
				b.Fatal(err)
			}
			tr, err := training.NewTrainer(be, cfg, training.DefaultRecipe(), nil)
			if err != nil {
				b.Fatal(err)
			}
			const batch = 16
			r := rand.New(rand.NewPCG(1, 1))
			images := make([]float32, batch*3*128*128)
			labels := make([]int32, batch*128*128)
			for i := range images {
				images[i] = r.Float32()
			}
			for i := range labels {
				labels[i] = int32(r.IntN(3))
			}
			step := func() {
				bt := train.Batch{
					Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(images, batch, 3, 128, 128)},
					Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, batch, 128, 128)},
				}
				if _, err := tr.Step(bt); err != nil {
					b.Fatal(err)
				}
			}
			step() // compile
			b.ResetTimer()
			for range b.N {
				step()
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
