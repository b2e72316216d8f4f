package training

import (
	"context"
	"fmt"

	"github.com/vitseg/vitseg/model/imaging"
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
		hi := min(lo+batchSize, len(examples))
		images := make([]float32, 0, (hi-lo)*sess.ImageLen())
		for _, ex := range examples[lo:hi] {
			if len(ex.Image) != sess.ImageLen() {
				return Metrics{}, fmt.Errorf("evaluate: example %s has %d values, model wants %d (resolution mismatch)",
					ex.Name, len(ex.Image), sess.ImageLen())
			}
			images = append(images, ex.Image...)
		}
		logits, err := sess.Run(ctx, images, hi-lo)
		if err != nil {
			return Metrics{}, fmt.Errorf("evaluate: %w", err)
		}
		for i, ex := range examples[lo:hi] {
			m, err := imaging.MaskFromLogits(logits[i*sess.LogitsLen():(i+1)*sess.LogitsLen()], c.Classes, c.ImageSize, c.ImageSize)
			if err != nil {
				return Metrics{}, err
			}
			if err := score.Add(ex.Mask, m.Pix); err != nil {
				return Metrics{}, err
			}
		}
	}
	return score.Metrics(), nil
}
