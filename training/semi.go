package training

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// SemiSupervised trains on pseudo-labeled photos beside the labeled ones (self-training): a teacher labels the
// unlabeled photos, only its confident pixels count (IgnoreLabel elsewhere), and each epoch mixes Ratio
// pseudo-labeled photos per labeled one, augmented strongly (the teacher saw them plain). Pseudo-labels are not
// checkpointed: a resumed run makes them again when it resumes (with Teacher, or the student when it is nil).
type SemiSupervised struct {
	Photos []UnlabeledPhoto
	// Teacher labels the photos when they first join, after WarmupEpochs; nil: the student itself (flip
	// averaged; its averaged weights when EMA is on).
	Teacher Teacher
	// Threshold is the softmax probability a pixel's winning class needs to count.
	Threshold float64
	// Ratio is the number of pseudo-labeled photos per labeled photo in each epoch.
	Ratio float64
	// WarmupEpochs are trained on the labeled photos alone.
	WarmupEpochs int
	// RefreshEpochs > 0 relabels the photos every this many epochs with the student as the teacher: the labels
	// improve as it does.
	RefreshEpochs int
	// Augmentation is applied to the pseudo-labeled photos (strong); the labeled ones keep the recipe's.
	Augmentation Augmentation
}

// Validate reports settings that cannot train.
func (s SemiSupervised) Validate() error {
	switch {
	case s.Threshold <= 0 || s.Threshold > 1:
		return fmt.Errorf("pseudo-label threshold must be in (0, 1], got %g", s.Threshold)
	case s.Ratio <= 0:
		return fmt.Errorf("pseudo-label ratio must be positive, got %g", s.Ratio)
	case s.WarmupEpochs < 0 || s.RefreshEpochs < 0:
		return fmt.Errorf("warm-up and refresh epochs must not be negative, got %d and %d", s.WarmupEpochs, s.RefreshEpochs)
	case len(s.Photos) == 0:
		return errors.New("no unlabeled photos")
	}
	return errors.Join(s.Augmentation.validate()...)
}

// pseudoState is the Trainer's current pseudo-labels.
type pseudoState struct {
	examples  []Example
	labeledAt int     // epoch (0-based) they were made at
	coverage  float64 // mean share of confident pixels
}

// epochSet is the training set of a 0-based epoch: the labeled examples, plus pseudo-labeled ones when Semi is
// set and the warm-up is over, (re)labelled when due.
func (t *Trainer) epochSet(ctx context.Context, epoch int, labeled []Example, size int) ([]Example, error) {
	s := t.Semi
	if s == nil || epoch < s.WarmupEpochs {
		return labeled, nil
	}
	fresh := t.pseudo.examples == nil
	if fresh || s.RefreshEpochs > 0 && epoch-t.pseudo.labeledAt >= s.RefreshEpochs {
		teacher, by := s.Teacher, "teacher"
		if teacher == nil || !fresh {
			teacher, by = t.studentTeacher(size), "student"
		}
		var examples []Example
		var coverage float64
		err := t.withAveragedWeights(func() error {
			var err error
			examples, coverage, err = PseudoLabelPhotos(ctx, teacher, s.Photos, t.Net.ModelConfig().Classes, size, s.Threshold)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("pseudo-labels at epoch %d: %w", epoch+1, err)
		}
		t.pseudo = pseudoState{examples: examples, labeledAt: epoch, coverage: coverage}
		t.Logger.Info("pseudo-labels made", zap.Int("epoch", epoch+1), zap.String("by", by),
			zap.Int("photos", len(examples)), zap.Float64("coverage", round(coverage, 4)))
	}
	return mixPseudo(labeled, t.pseudo.examples, s.Ratio, t.Recipe.Seed, epoch), nil
}

// studentTeacher is the network being trained as a Teacher: the mean of each image's and its mirror image's
// logits, with the weights in the store when called.
func (t *Trainer) studentTeacher(size int) Teacher {
	return func(_ context.Context, images [][]float32) ([][]float32, error) {
		mirrored := make([][]float32, len(images))
		for i, img := range images {
			mirrored[i] = mirrorImage(img, size)
		}
		own, err := t.logits(images, size)
		if err != nil {
			return nil, err
		}
		flipped, err := t.logits(mirrored, size)
		if err != nil {
			return nil, err
		}
		for i, l := range own {
			m := mirrorImage(flipped[i], size)
			for j := range l {
				l[j] = (l[j] + m[j]) / 2
			}
		}
		return own, nil
	}
}

// mirrorImage returns planes (CHW, side x side each) mirrored left to right.
func mirrorImage(planes []float32, side int) []float32 {
	out := make([]float32, len(planes))
	for row := 0; row+side <= len(planes); row += side {
		for x := range side {
			out[row+x] = planes[row+side-1-x]
		}
	}
	return out
}

// UnlabeledSummary is what a run's summary records of a semi-supervised run.
type UnlabeledSummary struct {
	*UnlabeledSet
	Teacher        string           `json:"teacher"` // file and version, or "student"
	Threshold      float64          `json:"threshold"`
	ThresholdTable []ThresholdPoint `json:"threshold_table,omitempty"` // the teacher on the validation split
	Ratio          float64          `json:"ratio"`
	WarmupEpochs   int              `json:"warmup_epochs"`
	RefreshEpochs  int              `json:"refresh_epochs"`
}
