package training

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

// IgnoreLabel is the label of a pixel that no loss term counts: an unconfident pixel of a pseudo-label (any
// value outside the class ids is ignored the same way).
const IgnoreLabel = 255

// PixelLoss is the training loss over logits [B, C, H, W] and labels [B, H, W] (int32 class ids, IgnoreLabel
// for pixels that do not count): cross-entropy, optionally label-smoothed and class-weighted, plus an optional
// soft Dice term. The zero value is nn.CrossEntropyLoss averaged over all pixels, the article's loss.
type PixelLoss struct {
	// LabelSmoothing e makes the targets (1-e)*one-hot + e/classes.
	LabelSmoothing float64
	// ClassWeights, when set (one per class), weight each pixel's cross-entropy by its label's weight and
	// average with those weights, as nn.CrossEntropyLoss(weight=w).
	ClassWeights []float64
	// DiceWeight > 0 adds DiceWeight x (1 - mean soft Dice over the classes) of the batch.
	DiceWeight float64
}

// Validate reports a loss that cannot train a network of classes classes.
func (l PixelLoss) Validate(classes int) error {
	if l.LabelSmoothing < 0 || l.LabelSmoothing >= 1 {
		return fmt.Errorf("label smoothing must be in [0, 1), got %g", l.LabelSmoothing)
	}
	if len(l.ClassWeights) != 0 && len(l.ClassWeights) != classes {
		return fmt.Errorf("class weights: got %d, want one per class (%d)", len(l.ClassWeights), classes)
	}
	for _, w := range l.ClassWeights {
		if w <= 0 {
			return fmt.Errorf("class weights must be positive, got %g", w)
		}
	}
	if l.DiceWeight < 0 {
		return fmt.Errorf("dice weight must not be negative, got %g", l.DiceWeight)
	}
	return nil
}

// Func returns the loss as GoMLX's trainer takes it.
func (l PixelLoss) Func() func(labels, predictions []*graph.Node) *graph.Node {
	return func(labels, predictions []*graph.Node) *graph.Node {
		logits := predictions[0]
		classes := logits.Shape().Dimensions[1]
		onehot := graph.TransposeAllAxes(graph.OneHot(labels[0], classes, logits.DType()), 0, 3, 1, 2) // [B, C, H, W]
		valid := graph.ReduceAndKeep(onehot, graph.ReduceSum, 1)                                       // [B, 1, H, W]: 0 where ignored
		loss := l.crossEntropy(logits, onehot, valid)
		if l.DiceWeight > 0 {
			loss = graph.Add(loss, graph.MulScalar(softDiceLoss(logits, onehot, valid), l.DiceWeight))
		}
		return loss
	}
}

// crossEntropy is the (smoothed, weighted) cross-entropy averaged over the counted pixels.
func (l PixelLoss) crossEntropy(logits, onehot, valid *graph.Node) *graph.Node {
	classes := logits.Shape().Dimensions[1]
	logp := graph.LogSoftmax(logits, 1)
	target := onehot
	if e := l.LabelSmoothing; e > 0 {
		target = graph.Add(graph.MulScalar(onehot, 1-e), graph.MulScalar(valid, e/float64(classes)))
	}
	nll := graph.Neg(graph.ReduceSum(graph.Mul(target, logp), 1)) // [B, H, W]
	weight := graph.Squeeze(valid, 1)                             // [B, H, W]
	if len(l.ClassWeights) > 0 {
		w := graph.ConstAsDType(logits.Graph(), logits.DType(), l.ClassWeights)
		weight = graph.ReduceSum(graph.Mul(onehot, graph.ExpandAxes(w, 0, 2, 3)), 1)
	}
	total := graph.Max(graph.ReduceAllSum(weight), graph.ScalarOne(logits.Graph(), logits.DType()))
	return graph.Div(graph.ReduceAllSum(graph.Mul(weight, nll)), total)
}

// softDiceLoss is 1 - the mean over classes of the batch's soft Dice coefficient (2|P∩T|+1)/(|P|+|T|+1), with
// P the softmax probabilities and T the one-hot labels, over the counted pixels.
func softDiceLoss(logits, onehot, valid *graph.Node) *graph.Node {
	p := graph.Mul(graph.Softmax(logits, 1), valid)
	inter := graph.ReduceSum(graph.Mul(p, onehot), 0, 2, 3)
	sizes := graph.Add(graph.ReduceSum(p, 0, 2, 3), graph.ReduceSum(onehot, 0, 2, 3))
	dice := graph.Div(graph.AddScalar(graph.MulScalar(inter, 2), 1), graph.AddScalar(sizes, 1))
	return graph.OneMinus(graph.ReduceAllMean(dice))
}

// PixelCrossEntropy is nn.CrossEntropyLoss over logits [B, C, H, W] and labels [B, H, W] (int32 class ids),
// averaged over all pixels.
func PixelCrossEntropy(labels, predictions []*graph.Node) *graph.Node {
	return PixelLoss{}.Func()(labels, predictions)
}

// SmoothedPixelCrossEntropy is nn.CrossEntropyLoss(label_smoothing=epsilon): the targets are
// (1-epsilon)*one-hot + epsilon/classes. Epsilon 0 is PixelCrossEntropy.
func SmoothedPixelCrossEntropy(epsilon float64) func(labels, predictions []*graph.Node) *graph.Node {
	return PixelLoss{LabelSmoothing: epsilon}.Func()
}
