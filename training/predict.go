package training

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/vitseg/vitseg/model/imaging"
)

// Predict returns the predicted masks (model resolution) of examples, in inference mode.
func (t *Trainer) Predict(examples []Example, size int) ([][]uint8, error) {
	classes := t.Net.ModelConfig().Classes
	var masks [][]uint8
	for lo := 0; lo < len(examples); lo += predictChunk {
		batch := examples[lo:min(lo+predictChunk, len(examples))]
		logits, err := t.logits(examplesImages(batch), size)
		if err != nil {
			return nil, err
		}
		for _, l := range logits {
			m, err := imaging.MaskFromLogits(l, classes, size, size)
			if err != nil {
				return nil, err
			}
			masks = append(masks, m.Pix)
		}
	}
	return masks, nil
}

// predictChunk is how many images Predict runs at once.
const predictChunk = 16

// logits runs images (CHW, size x size) through the network in inference mode with the current weights.
func (t *Trainer) logits(images [][]float32, size int) ([][]float32, error) {
	if len(images) == 0 {
		return nil, nil
	}
	if t.predict == nil {
		exec, err := t.Net.InferenceExec(t.Backend, t.Store)
		if err != nil {
			return nil, err
		}
		t.predict = exec
	}
	plane := size * size
	flat := make([]float32, 0, len(images)*3*plane)
	for _, img := range images {
		flat = append(flat, img...)
	}
	outs, err := t.predict.Call(tensors.FromFlatDataAndDimensions(flat, len(images), 3, size, size))
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	all := tensors.MustCopyFlatData[float32](outs[0])
	outs[0].FinalizeAll() //nolint:errcheck
	per := len(all) / len(images)
	out := make([][]float32, len(images))
	for i := range out {
		out[i] = all[i*per : (i+1)*per : (i+1)*per]
	}
	return out, nil
}

// Evaluate computes the metrics of the network on examples at the model resolution, with no augmentation.
func (t *Trainer) Evaluate(examples []Example, size int) (Metrics, error) {
	preds, err := t.Predict(examples, size)
	if err != nil {
		return Metrics{}, err
	}
	score := NewScorer(t.Net.ModelConfig().Classes, size)
	for i, ex := range examples {
		if err := score.Add(ex.Mask, preds[i]); err != nil {
			return Metrics{}, err
		}
	}
	return score.Metrics(), nil
}
