package training_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/training"
)

func TestLearningRateAtStep(t *testing.T) {
	base := training.Recipe{Epochs: 10, LearningRate: 1, LRStepEpochs: 4, LRGamma: 0.5}
	const spe = 10 // steps per epoch
	cosine := base
	cosine.Schedule = training.ScheduleCosine
	warm := cosine
	warm.WarmupEpochs = 2
	tests := []struct {
		name   string
		recipe training.Recipe
		step   int
		want   float64
	}{
		{"step schedule, first epoch", base, 0, 1},
		{"step schedule equals StepLR of the epoch", base, 45, base.LearningRateAt(4)},
		{"step schedule, after two decays", base, 85, 0.25},
		{"cosine starts at the peak", cosine, 0, 1},
		{"cosine is half way at mid-run", cosine, 50, 0.5},
		{"cosine ends near 0", cosine, 99, 0.5 * (1 + math.Cos(math.Pi*99/100))},
		{"warm-up is linear from lr/steps", warm, 0, 1.0 / 20},
		{"warm-up reaches the peak on its last step", warm, 19, 1},
		{"cosine after warm-up starts at the peak", warm, 20, 1},
		{"cosine after warm-up is half way at mid-decay", warm, 60, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.recipe.LearningRateAtStep(tc.step, spe); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("step %d: lr %g, want %g", tc.step, got, tc.want)
			}
		})
	}
}

func TestRecipeValidateLevers(t *testing.T) {
	tests := []struct {
		name   string
		change func(*training.Recipe)
		want   string
	}{
		{"unknown schedule", func(r *training.Recipe) { r.Schedule = "linear" }, "schedule"},
		{"warm-up longer than the run", func(r *training.Recipe) { r.WarmupEpochs = 100 }, "warm-up"},
		{"negative weight decay", func(r *training.Recipe) { r.WeightDecay = -1 }, "weight decay"},
		{"label smoothing 1", func(r *training.Recipe) { r.LabelSmoothing = 1 }, "label smoothing"},
		{"EMA decay 1", func(r *training.Recipe) { r.EMADecay = 1 }, "EMA decay"},
		{"crop aspect below 1", func(r *training.Recipe) { r.Augmentation.CropAspect = 0.5 }, "crop aspect"},
		{"rotation over 180", func(r *training.Recipe) { r.Augmentation.Rotate = 200 }, "rotation"},
		{"brightness 1", func(r *training.Recipe) { r.Augmentation.Brightness = 1 }, "brightness"},
		{"saturation negative", func(r *training.Recipe) { r.Augmentation.Saturation = -0.1 }, "saturation"},
		{"hue over half a turn", func(r *training.Recipe) { r.Augmentation.Hue = 0.6 }, "hue"},
	}
	if err := training.DefaultRecipe().Validate(); err != nil {
		t.Fatalf("default recipe: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := training.DefaultRecipe()
			tc.change(&r)
			if err := r.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestSmoothedPixelCrossEntropy compares the loss graph with the closed form: for uniform logits the loss is
// log(C) whatever the smoothing; for logits (a, 0, 0) with label 0 it is -[(1-e+e/C) logp0 + (2e/C) logp1].
func TestSmoothedPixelCrossEntropy(t *testing.T) {
	b := backend(t)
	const a = 2.0
	logZ := math.Log(math.Exp(a) + 2)
	logp0, logp1 := a-logZ, -logZ
	tests := []struct {
		name    string
		epsilon float64
		logit0  float32
		want    float64
	}{
		{"uniform logits, no smoothing", 0, 0, math.Log(3)},
		{"uniform logits, smoothing", 0.2, 0, math.Log(3)},
		{"confident logits, no smoothing", 0, a, -logp0},
		{"confident logits, smoothing 0.1", 0.1, a, -((1-0.1+0.1/3)*logp0 + (2*0.1/3)*logp1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exec, err := gomlx.NewExec(b, gomlx.NewStore(), func(_ *gomlx.Scope, logits, labels *graph.Node) *graph.Node {
				return training.SmoothedPixelCrossEntropy(tc.epsilon)([]*graph.Node{labels}, []*graph.Node{logits})
			})
			if err != nil {
				t.Fatal(err)
			}
			// One image of 1x2 pixels, both with label 0 and logits (logit0, 0, 0).
			logits := tensors.FromFlatDataAndDimensions([]float32{tc.logit0, tc.logit0, 0, 0, 0, 0}, 1, 3, 1, 2)
			labels := tensors.FromFlatDataAndDimensions([]int32{0, 0}, 1, 1, 2)
			outs, err := exec.Call(logits, labels)
			if err != nil {
				t.Fatal(err)
			}
			if got := float64(tensors.MustCopyFlatData[float32](outs[0])[0]); math.Abs(got-tc.want) > 1e-5 {
				t.Errorf("loss %.6f, want %.6f", got, tc.want)
			}
		})
	}
}

// TestTrainWithLevers trains the tiny network for two epochs with every lever on: the loss stays finite, the
// run is reproducible, and with EMA the weights left in the store are the average (not the last step's), which
// the checkpoint restores on resume.
func TestTrainWithLevers(t *testing.T) {
	b := backend(t)
	set := loadSmall(t, 8)
	cfg, err := model.Preset(model.PresetTiny)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DropPath, cfg.HeadHidden, cfg.Stem = 0.1, 32, model.StemConv
	recipe := training.DefaultRecipe()
	recipe.Epochs, recipe.BatchSize, recipe.LearningRate = 2, 4, 2e-3
	recipe.Schedule, recipe.WarmupEpochs, recipe.WeightDecay = training.ScheduleCosine, 1, 0.05
	recipe.LabelSmoothing, recipe.EMADecay = 0.1, 0.9
	recipe.Augmentation.CropScale, recipe.Augmentation.CropAspect, recipe.Augmentation.Rotate = 0.7, 1.3, 10
	recipe.Augmentation.Brightness, recipe.Augmentation.Saturation, recipe.Augmentation.Hue = 0.2, 0.2, 0.05
	run := func(dir string) ([]training.EpochStats, map[string][]float32) {
		tr, err := training.NewTrainer(b, cfg, recipe, nil)
		if err != nil {
			t.Fatal(err)
		}
		tr.CheckpointDir = dir
		hist, err := tr.Train(context.Background(), set, set[:4], 128)
		if err != nil {
			t.Fatal(err)
		}
		return hist, weights(t, tr)
	}
	dir := t.TempDir()
	hist, w1 := run(dir)
	if len(hist) != 2 {
		t.Fatalf("%d epochs, want 2", len(hist))
	}
	for _, s := range hist {
		if math.IsNaN(s.TrainLoss) || s.TrainLoss <= 0 || s.ValPixelAccuracy <= 0 {
			t.Errorf("epoch %d: loss %g, val accuracy %g", s.Epoch, s.TrainLoss, s.ValPixelAccuracy)
		}
	}
	if hist[0].LearningRate >= recipe.LearningRate {
		t.Errorf("epoch 1 starts at lr %g: warm-up should start below %g", hist[0].LearningRate, recipe.LearningRate)
	}
	// Resuming the finished run trains nothing and must leave the same averaged weights.
	_, w2 := run(dir)
	for k, v := range w1 {
		for i := range v {
			if v[i] != w2[k][i] {
				t.Fatalf("variable %s[%d]: %v after the run, %v after resuming its checkpoint", k, i, v[i], w2[k][i])
			}
		}
	}
}

// TestWeightDecayShrinksWeights: AdamW's decoupled decay pulls every weight towards 0 by lr*decay per step, on top
// of Adam's step, so the weights of a run with a large decay end with a smaller norm than without.
func TestWeightDecayShrinksWeights(t *testing.T) {
	b := backend(t)
	set := loadSmall(t, 4)
	norm := func(decay float64) float64 {
		cfg, err := model.Preset(model.PresetTiny)
		if err != nil {
			t.Fatal(err)
		}
		recipe := training.DefaultRecipe()
		recipe.Epochs, recipe.BatchSize, recipe.LearningRate, recipe.WeightDecay = 1, 4, 2e-3, decay
		tr, err := training.NewTrainer(b, cfg, recipe, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Train(context.Background(), set, nil, 128); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, w := range weights(t, tr) {
			for _, x := range w {
				sum += float64(x) * float64(x)
			}
		}
		return math.Sqrt(sum)
	}
	adam, adamW := norm(0), norm(50) // lr 2e-3 x 50: each step scales the weights by 0.9
	if !(adamW < 0.95*adam) {
		t.Errorf("weight norm with decay %.3f, without %.3f: decay did not shrink the weights", adamW, adam)
	}
}

// TestTrainUNetDecoders trains the tiny network with each UNet decoder and the loss levers (class weights, Dice)
// for three epochs: forward and backward run, every decoder variable moves, and the training loss falls.
func TestTrainUNetDecoders(t *testing.T) {
	b := backend(t)
	set := loadSmall(t, 8)
	for _, decoder := range []string{model.DecoderUNet, model.DecoderUNetLinear} {
		t.Run(decoder, func(t *testing.T) {
			cfg, err := model.Preset(model.PresetTiny)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Stem, cfg.Decoder = model.StemConv, decoder
			recipe := training.DefaultRecipe()
			recipe.Epochs, recipe.BatchSize, recipe.LearningRate = 3, 4, 2e-3
			recipe.ClassWeights, recipe.DiceWeight = []float64{1, 1, 2}, 0.5
			tr, err := training.NewTrainer(b, cfg, recipe, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Predict(set[:1], 128); err != nil { // initialises the variables
				t.Fatal(err)
			}
			before := weights(t, tr)
			hist, err := tr.Train(context.Background(), set, set[:4], 128)
			if err != nil {
				t.Fatal(err)
			}
			if last := hist[len(hist)-1].TrainLoss; math.IsNaN(last) || last >= hist[0].TrainLoss {
				t.Errorf("training loss %g -> %g: did not fall", hist[0].TrainLoss, last)
			}
			moved := 0
			for name, w := range weights(t, tr) {
				if !strings.Contains(name, "decoder") {
					continue
				}
				if !slices.Equal(w, before[name]) {
					moved++
				} else {
					t.Errorf("decoder variable %s did not change", name)
				}
			}
			if moved == 0 {
				t.Error("no decoder variable found")
			}
		})
	}
}
