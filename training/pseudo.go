package training

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vitseg/vitseg/model/inference"
)

// Teacher returns the class logits (CHW at the model's resolution, averaged over its test-time views) of each
// image: what pseudo-labels are made of.
type Teacher func(ctx context.Context, images [][]float32) ([][]float32, error)

// SessionTeacher is a served model as the teacher, with its session's test-time augmentation (flip: the mean of
// the image's and its mirror's logits).
func SessionTeacher(sess *inference.Session) Teacher {
	views := float32(1)
	if sess.TTA() == inference.TTAFlip {
		views = 2
	}
	return func(ctx context.Context, images [][]float32) ([][]float32, error) {
		logits, err := sess.Logits(ctx, images)
		if err != nil {
			return nil, err
		}
		for _, l := range logits {
			for i := range l {
				l[i] /= views
			}
		}
		return logits, nil
	}
}

// PseudoLabel turns one image's logits (classes x side x side) into a pseudo-label: the arg-max where the
// softmax probability of the winning class is at least threshold, IgnoreLabel elsewhere. It returns the label
// and the share of pixels kept.
func PseudoLabel(logits []float32, classes, side int, threshold float64) ([]uint8, float64) {
	label, confidence := winners(logits, classes, side)
	kept := 0
	for p, c := range confidence {
		if c >= threshold {
			kept++
		} else {
			label[p] = IgnoreLabel
		}
	}
	return label, float64(kept) / float64(len(label))
}

// winners returns each pixel's arg-max class and its softmax probability.
func winners(logits []float32, classes, side int) ([]uint8, []float64) {
	plane := side * side
	label, confidence := make([]uint8, plane), make([]float64, plane)
	for p := range plane {
		best, id := logits[p], 0
		for c := 1; c < classes; c++ {
			if v := logits[c*plane+p]; v > best {
				best, id = v, c
			}
		}
		var sum float64
		for c := range classes {
			sum += math.Exp(float64(logits[c*plane+p] - best))
		}
		label[p], confidence[p] = uint8(id), 1/sum // the winner's probability: exp(0) / sum
	}
	return label, confidence
}

// ThresholdPoint is how a teacher's pseudo-labels fare on labeled photos at one confidence threshold.
type ThresholdPoint struct {
	Threshold float64 `json:"threshold"`
	Coverage  float64 `json:"coverage"` // share of pixels kept
	Accuracy  float64 `json:"accuracy"` // pixel accuracy over the kept pixels
}

// ThresholdTable scores teacher's pseudo-labels of the labeled examples (the validation split) at each threshold.
func ThresholdTable(ctx context.Context, teacher Teacher, examples []Example, classes, side int, thresholds []float64) ([]ThresholdPoint, error) {
	kept := make([]int64, len(thresholds))
	correct := make([]int64, len(thresholds))
	var total int64
	err := inBatches(ctx, teacher, examplesImages(examples), func(i int, logits []float32) {
		label, confidence := winners(logits, classes, side)
		for p, c := range confidence {
			for k, th := range thresholds {
				if c >= th {
					kept[k]++
					if label[p] == examples[i].Mask[p] {
						correct[k]++
					}
				}
			}
		}
		total += int64(len(label))
	})
	if err != nil {
		return nil, err
	}
	table := make([]ThresholdPoint, len(thresholds))
	for k, th := range thresholds {
		table[k] = ThresholdPoint{Threshold: th, Coverage: float64(kept[k]) / float64(max(total, 1))}
		if kept[k] > 0 {
			table[k].Accuracy = float64(correct[k]) / float64(kept[k])
		}
	}
	return table, nil
}

// ChooseThreshold is the lowest threshold of table whose kept pixels are at least minAccuracy correct (the
// highest threshold when none is).
func ChooseThreshold(table []ThresholdPoint, minAccuracy float64) float64 {
	best := 0.0
	for _, p := range table {
		best = max(best, p.Threshold)
	}
	for _, p := range table {
		if p.Accuracy >= minAccuracy && p.Threshold < best {
			best = p.Threshold
		}
	}
	return best
}

// PseudoLabelPhotos labels photos with teacher at threshold: one Pseudo example per photo. It returns the
// examples and the mean share of pixels kept.
func PseudoLabelPhotos(ctx context.Context, teacher Teacher, photos []UnlabeledPhoto, classes, side int, threshold float64) ([]Example, float64, error) {
	images := make([][]float32, len(photos))
	for i, p := range photos {
		images[i] = p.Image
	}
	out := make([]Example, len(photos))
	var coverage float64
	err := inBatches(ctx, teacher, images, func(i int, logits []float32) {
		label, kept := PseudoLabel(logits, classes, side, threshold)
		out[i] = Example{Name: photos[i].Name, Image: photos[i].Image, Mask: label, ImageSHA256: photos[i].SHA256, Pseudo: true}
		coverage += kept
	})
	if err != nil {
		return nil, 0, err
	}
	return out, coverage / float64(max(len(photos), 1)), nil
}

// inBatches runs teacher over images 16 at a time and hands each image's logits to use.
func inBatches(ctx context.Context, teacher Teacher, images [][]float32, use func(i int, logits []float32)) error {
	const batch = 16
	for lo := 0; lo < len(images); lo += batch {
		hi := min(lo+batch, len(images))
		logits, err := teacher(ctx, images[lo:hi])
		if err != nil {
			return fmt.Errorf("teacher, images %d..%d: %w", lo, hi-1, err)
		}
		for i, l := range logits {
			use(lo+i, l)
		}
	}
	return nil
}

func examplesImages(examples []Example) [][]float32 {
	images := make([][]float32, len(examples))
	for i, ex := range examples {
		images[i] = ex.Image
	}
	return images
}

// mixPseudo returns the epoch's training set: the labeled examples and ratio x as many pseudo-labeled ones,
// drawn without replacement (all of them when there are fewer) by the epoch's seed.
func mixPseudo(labeled, pseudo []Example, ratio float64, seed uint64, epoch int) []Example {
	n := min(int(math.Round(ratio*float64(len(labeled)))), len(pseudo))
	set := append(make([]Example, 0, len(labeled)+n), labeled...)
	r := rand.New(rand.NewPCG(seed^0x9a11, uint64(epoch)))
	for _, i := range r.Perm(len(pseudo))[:n] {
		set = append(set, pseudo[i])
	}
	return set
}
