package training_test

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/training"
)

// TestPixelLoss compares the loss graph with closed forms on one image of 1x2 pixels whose logits are (a, 0, 0)
// (or uniform): class weights average with the labels' weights, IgnoreLabel pixels do not count, and the Dice
// term adds its weight times 1 - the mean soft Dice.
func TestPixelLoss(t *testing.T) {
	b := backend(t)
	const a = 2.0
	logZ := math.Log(math.Exp(a) + 2)
	logp0, logp1 := a-logZ, -logZ
	// Uniform logits, labels (0, 0): Dice of class 0 is (2*2/3+1)/(2/3+2+1), of the other two 1/(2/3+1).
	uniformDice := 1 - (7.0/11+2*3.0/5)/3
	tests := []struct {
		name   string
		loss   training.PixelLoss
		logit0 float32
		labels []int32
		want   float64
	}{
		{"plain, confident", training.PixelLoss{}, a, []int32{0, 2}, -(logp0 + logp1) / 2},
		{"class weights", training.PixelLoss{ClassWeights: []float64{1, 1, 3}}, a, []int32{0, 2}, -(logp0 + 3*logp1) / 4},
		{"ignored pixel", training.PixelLoss{}, a, []int32{0, training.IgnoreLabel}, -logp0},
		{"ignored pixel, weighted", training.PixelLoss{ClassWeights: []float64{2, 1, 1}}, a, []int32{training.IgnoreLabel, 0}, -logp0},
		{"smoothing ignores ignored pixels", training.PixelLoss{LabelSmoothing: 0.1}, 0, []int32{1, training.IgnoreLabel}, math.Log(3)},
		{"dice, uniform logits", training.PixelLoss{DiceWeight: 0.5}, 0, []int32{0, 0}, math.Log(3) + 0.5*uniformDice},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.loss.Validate(3); err != nil {
				t.Fatal(err)
			}
			exec, err := gomlx.NewExec(b, gomlx.NewStore(), func(_ *gomlx.Scope, logits, labels *graph.Node) *graph.Node {
				return tc.loss.Func()([]*graph.Node{labels}, []*graph.Node{logits})
			})
			if err != nil {
				t.Fatal(err)
			}
			logits := tensors.FromFlatDataAndDimensions([]float32{tc.logit0, tc.logit0, 0, 0, 0, 0}, 1, 3, 1, 2)
			outs, err := exec.Call(logits, tensors.FromFlatDataAndDimensions(tc.labels, 1, 1, 2))
			if err != nil {
				t.Fatal(err)
			}
			if got := float64(tensors.MustCopyFlatData[float32](outs[0])[0]); math.Abs(got-tc.want) > 1e-5 {
				t.Errorf("loss %.6f, want %.6f", got, tc.want)
			}
		})
	}
}

func TestPixelLossValidate(t *testing.T) {
	tests := []struct {
		name string
		loss training.PixelLoss
		ok   bool
	}{
		{"zero value", training.PixelLoss{}, true},
		{"weights per class", training.PixelLoss{ClassWeights: []float64{1, 1, 2}}, true},
		{"too few weights", training.PixelLoss{ClassWeights: []float64{1, 2}}, false},
		{"zero weight", training.PixelLoss{ClassWeights: []float64{1, 0, 2}}, false},
		{"negative dice", training.PixelLoss{DiceWeight: -1}, false},
		{"smoothing 1", training.PixelLoss{LabelSmoothing: 1}, false},
	}
	for _, tc := range tests {
		if err := tc.loss.Validate(3); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
