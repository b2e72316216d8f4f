package training

import (
	"context"
	"fmt"

	"github.com/vitseg/vitseg/model/inference"
)

// EvaluateSession computes the metrics of a served model on examples, with no augmentation, in batches of
// batchSize: at the photos' own size, as users receive the masks (the model's logits interpolated to each
// photo's size, scored against every pixel of its original trimap), with the same metrics at the model's
// resolution in ModelResolution. Examples without their original trimap are scored at the model's resolution
// only, which is then the headline.
func EvaluateSession(ctx context.Context, sess *inference.Session, examples []Example, batchSize int) (Metrics, error) {
	c := sess.Config()
	atModel, atPhoto := NewScorer(c.Classes, c.ImageSize), NewScorer(c.Classes, c.ImageSize)
	photos := 0
	if batchSize <= 0 {
		batchSize = 16
	}
	for lo := 0; lo < len(examples); lo += batchSize {
		batch := examples[lo:min(lo+batchSize, len(examples))]
		tensors := make([][]float32, len(batch))
		for i, ex := range batch {
			tensors[i] = ex.Image
		}
		logits, err := sess.Logits(ctx, tensors)
		if err != nil {
			return Metrics{}, fmt.Errorf("evaluate examples %s..%s: %w", batch[0].Name, batch[len(batch)-1].Name, err)
		}
		for i, ex := range batch {
			pred, err := sess.MaskAt(logits[i], c.ImageSize, c.ImageSize)
			if err != nil {
				return Metrics{}, err
			}
			if err := atModel.Add(ex.Mask, pred.Pix); err != nil {
				return Metrics{}, err
			}
			if ex.Trimap == nil {
				continue
			}
			if err := scoreAtPhotoSize(atPhoto, sess, ex, logits[i]); err != nil {
				return Metrics{}, err
			}
			photos++
		}
	}
	m := atModel.Metrics()
	if photos == 0 {
		return m, nil
	}
	full := atPhoto.Metrics()
	full.ModelResolution = &m
	return full, nil
}

// scoreAtPhotoSize adds the prediction of ex at its trimap's size.
func scoreAtPhotoSize(score *Scorer, sess *inference.Session, ex Example, logits []float32) error {
	truth, err := DecodeTrimap(ex.Trimap)
	if err != nil {
		return fmt.Errorf("evaluate %s: %w", ex.Name, err)
	}
	pred, err := sess.MaskAt(logits, truth.Width, truth.Height)
	if err != nil {
		return fmt.Errorf("evaluate %s: %w", ex.Name, err)
	}
	return score.AddSized(truth.Pix, pred.Pix, truth.Width, truth.Height)
}
