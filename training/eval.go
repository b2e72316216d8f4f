package training

import (
	"context"
	"fmt"

	"github.com/vitseg/vitseg/model/inference"
)

// EvaluateSession computes the metrics of a served model on examples at the model resolution, with no
// augmentation, in batches of batchSize.
func EvaluateSession(ctx context.Context, sess *inference.Session, examples []Example, batchSize int) (Metrics, error) {
	c := sess.Config()
	score := NewScorer(c.Classes, c.ImageSize)
	if batchSize <= 0 {
		batchSize = 16
	}
	for lo := 0; lo < len(examples); lo += batchSize {
		batch := examples[lo:min(lo+batchSize, len(examples))]
		tensors := make([][]float32, len(batch))
		for i, ex := range batch {
			tensors[i] = ex.Image
		}
		masks, err := sess.Masks(ctx, tensors)
		if err != nil {
			return Metrics{}, fmt.Errorf("evaluate examples %s..%s: %w", batch[0].Name, batch[len(batch)-1].Name, err)
		}
		for i, ex := range batch {
			if err := score.Add(ex.Mask, masks[i].Pix); err != nil {
				return Metrics{}, err
			}
		}
	}
	return score.Metrics(), nil
}
