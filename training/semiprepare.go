package training

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
)

// PseudoMinAccuracy is the accuracy on the validation split that the automatic pseudo-label threshold asks
// of the teacher's confident pixels.
const PseudoMinAccuracy = 0.95

// PseudoThresholds are the thresholds the automatic choice considers.
func PseudoThresholds() []float64 { return []float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98} }

// SemiPlan asks for semi-supervised training: the unlabeled photos and how they are pseudo-labeled.
type SemiPlan struct {
	Source UnlabeledSource
	// Max is the most photos used, drawn at random by the recipe's seed (0: all).
	Max int
	// Threshold, when 0, is chosen: the lowest of PseudoThresholds whose confident pixels are PseudoMinAccuracy
	// right on the validation split, with a teacher; else 0.9.
	Threshold                   float64
	Ratio                       float64
	WarmupEpochs, RefreshEpochs int
	// Teacher, when set, is the ONNX model (run with flip TTA) that makes the first pseudo-labels; TeacherName
	// names it in the summary. Without one the student labels the photos itself after the warm-up.
	Teacher     []byte
	TeacherName string
}

// Semi is a prepared semi-supervised run: the trainer's settings, their record in the run's summary, and
// Close, which closes the teacher.
type Semi struct {
	Settings *SemiSupervised
	Summary  *UnlabeledSummary
	Close    func()
}

// PrepareSemi loads plan's photos, leaving out those that are also in ds (by content), and its teacher, scoring
// the teacher's pseudo-labels on ds's validation split. The settings are not validated (SemiSupervised.Validate).
// Close must be called, also after an error.
func PrepareSemi(ctx context.Context, plan SemiPlan, ds *Dataset, rt *inference.Runtime, recipe Recipe, cfg model.Config,
	log *zap.Logger) (Semi, error) {
	s := Semi{Close: func() {}}
	labeled := map[string]bool{}
	for _, exs := range ds.Splits {
		for _, ex := range exs {
			labeled[ex.ImageSHA256] = true
		}
	}
	set, err := LoadUnlabeled(ctx, plan.Source, UnlabeledOptions{ImageSize: cfg.ImageSize, Max: plan.Max,
		Seed: recipe.Seed, Limits: imaging.DefaultLimits(), Labeled: labeled, Logger: log})
	if err != nil {
		return s, err
	}
	s.Settings = &SemiSupervised{Photos: set.Photos, Threshold: plan.Threshold, Ratio: plan.Ratio, WarmupEpochs: plan.WarmupEpochs,
		RefreshEpochs: plan.RefreshEpochs, Augmentation: StrongAugmentation(recipe.Augmentation)}
	s.Summary = &UnlabeledSummary{UnlabeledSet: set, Teacher: "student", Ratio: plan.Ratio, WarmupEpochs: plan.WarmupEpochs,
		RefreshEpochs: plan.RefreshEpochs}
	if plan.Teacher != nil {
		if err := s.loadTeacher(ctx, rt, plan, ds, cfg, log); err != nil {
			return s, err
		}
	}
	if s.Settings.Threshold == 0 {
		s.Settings.Threshold = 0.9
		if s.Summary.ThresholdTable != nil {
			s.Settings.Threshold = ChooseThreshold(s.Summary.ThresholdTable, PseudoMinAccuracy)
		}
	}
	s.Summary.Threshold = s.Settings.Threshold
	return s, nil
}

// StrongAugmentation is what the student sees of a pseudo-labeled photo: a's augmentation with colour jitter at
// least as strong as brightness, contrast and saturation 0.4 and hue 0.05.
func StrongAugmentation(a Augmentation) Augmentation {
	a.Brightness, a.Contrast, a.Saturation, a.Hue = max(a.Brightness, 0.4), max(a.Contrast, 0.4), max(a.Saturation, 0.4), max(a.Hue, 0.05)
	return a
}

// loadTeacher opens the teacher (flip TTA) into s and scores its pseudo-labels on the validation split.
func (s *Semi) loadTeacher(ctx context.Context, rt *inference.Runtime, plan SemiPlan, ds *Dataset, cfg model.Config, log *zap.Logger) error {
	name := plan.TeacherName
	sess, err := rt.Load(plan.Teacher, inference.Options{Device: inference.DeviceCPU, TTA: inference.TTAFlip})
	if err != nil {
		return fmt.Errorf("--teacher %s: %w", name, err)
	}
	if c := sess.Config(); c.ImageSize != cfg.ImageSize || c.Classes != cfg.Classes {
		sess.Close()
		return fmt.Errorf("--teacher %s: image size %d and %d classes, the student has %d and %d",
			name, c.ImageSize, c.Classes, cfg.ImageSize, cfg.Classes)
	}
	s.Close = func() { sess.Close() }
	s.Settings.Teacher = SessionTeacher(sess)
	s.Summary.Teacher = name + " (metadata version " + sess.Metadata().Version + ")"
	if val := ds.Splits[SplitVal]; len(val) > 0 {
		table, err := ThresholdTable(ctx, s.Settings.Teacher, val, cfg.Classes, cfg.ImageSize, PseudoThresholds())
		if err != nil {
			return err
		}
		s.Summary.ThresholdTable = table
		log.Info("teacher's pseudo-labels on the validation split", zap.Any("thresholds", table))
	}
	return nil
}
