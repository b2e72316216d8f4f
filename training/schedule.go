package training

import (
	"fmt"
	"math"
)

// Learning-rate schedules of Recipe.Schedule.
const (
	ScheduleStep   = "step"   // StepLR: x LRGamma every LRStepEpochs epochs (the article's)
	ScheduleCosine = "cosine" // cosine decay from LearningRate to 0 over the run, per step
)

// LearningRateAtStep is the learning rate of a 0-based global step: a linear warm-up over WarmupEpochs (from
// LearningRate/steps-of-warm-up to LearningRate), then the schedule. Without warm-up and with the step schedule it
// equals LearningRateAt of the step's epoch.
func (r Recipe) LearningRateAtStep(step, stepsPerEpoch int) float64 {
	warmup := int(math.Round(r.WarmupEpochs * float64(stepsPerEpoch)))
	if step < warmup {
		return r.LearningRate * float64(step+1) / float64(warmup)
	}
	if r.Schedule != ScheduleCosine {
		return r.LearningRateAt(step / max(stepsPerEpoch, 1))
	}
	total := r.Epochs * stepsPerEpoch
	if total <= warmup {
		return r.LearningRate
	}
	progress := float64(step-warmup) / float64(total-warmup)
	return r.LearningRate * 0.5 * (1 + math.Cos(math.Pi*progress))
}

func (r Recipe) validateSchedule() []error {
	var errs []error
	switch r.Schedule {
	case "", ScheduleStep, ScheduleCosine:
	default:
		errs = append(errs, fmt.Errorf("schedule must be %s or %s, got %q", ScheduleStep, ScheduleCosine, r.Schedule))
	}
	if r.WarmupEpochs < 0 || r.WarmupEpochs > float64(r.Epochs) {
		errs = append(errs, fmt.Errorf("warm-up must be in [0, epochs=%d], got %g", r.Epochs, r.WarmupEpochs))
	}
	if r.WeightDecay < 0 {
		errs = append(errs, fmt.Errorf("weight decay must not be negative, got %g", r.WeightDecay))
	}
	if r.LabelSmoothing < 0 || r.LabelSmoothing >= 1 {
		errs = append(errs, fmt.Errorf("label smoothing must be in [0, 1), got %g", r.LabelSmoothing))
	}
	if r.EMADecay < 0 || r.EMADecay >= 1 {
		errs = append(errs, fmt.Errorf("EMA decay must be in [0, 1), got %g", r.EMADecay))
	}
	return errs
}

func (a Augmentation) validate() []error {
	var errs []error
	if a.Contrast < 0 || a.Contrast >= 1 {
		errs = append(errs, fmt.Errorf("contrast jitter must be in [0, 1), got %g", a.Contrast))
	}
	if a.CropScale < 0 || a.CropScale > 1 {
		errs = append(errs, fmt.Errorf("crop scale must be in [0, 1], got %g", a.CropScale))
	}
	if a.CropAspect != 0 && a.CropAspect < 1 {
		errs = append(errs, fmt.Errorf("crop aspect must be 0 (off) or at least 1, got %g", a.CropAspect))
	}
	if a.Rotate < 0 || a.Rotate > 180 {
		errs = append(errs, fmt.Errorf("rotation must be in [0, 180] degrees, got %g", a.Rotate))
	}
	if a.Brightness < 0 || a.Brightness >= 1 {
		errs = append(errs, fmt.Errorf("brightness jitter must be in [0, 1), got %g", a.Brightness))
	}
	if a.Saturation < 0 || a.Saturation >= 1 {
		errs = append(errs, fmt.Errorf("saturation jitter must be in [0, 1), got %g", a.Saturation))
	}
	if a.Hue < 0 || a.Hue > 0.5 {
		errs = append(errs, fmt.Errorf("hue jitter must be in [0, 0.5], got %g", a.Hue))
	}
	return errs
}
