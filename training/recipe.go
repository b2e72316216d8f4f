package training

import (
	"errors"
	"fmt"
	"math"
)

// Recipe is the training recipe; DefaultRecipe is the article's.
type Recipe struct {
	Epochs       int
	BatchSize    int
	LearningRate float64 // Adam
	LRStepEpochs int     // StepLR step_size, in epochs
	LRGamma      float64 // StepLR gamma
	Augmentation Augmentation
	Seed         uint64

	// Levers beyond the article's recipe, off at their zero value.
	Schedule       string    `json:",omitempty"` // ScheduleStep (default) or ScheduleCosine
	WarmupEpochs   float64   `json:",omitempty"` // linear learning-rate warm-up, in epochs
	WeightDecay    float64   `json:",omitempty"` // > 0: AdamW (decoupled, x learning rate; GoMLX decays every variable, biases and norms too)
	LabelSmoothing float64   `json:",omitempty"` // targets (1-e)*one-hot + e/classes
	EMADecay       float64   `json:",omitempty"` // > 0: evaluate and export an exponential moving average of the weights
	ClassWeights   []float64 `json:",omitempty"` // per-class cross-entropy weights (PixelLoss.ClassWeights)
	DiceWeight     float64   `json:",omitempty"` // > 0: add this times the soft Dice loss
}

// Loss is the recipe's training loss.
func (r Recipe) Loss() PixelLoss {
	return PixelLoss{LabelSmoothing: r.LabelSmoothing, ClassWeights: r.ClassWeights, DiceWeight: r.DiceWeight}
}

// DefaultRecipe returns the article's recipe: Adam 4e-4, StepLR(12 epochs, x0.8), h-flip, contrast 0.3, batch 16.
func DefaultRecipe() Recipe {
	return Recipe{Epochs: 20, BatchSize: 16, LearningRate: 4e-4, LRStepEpochs: 12, LRGamma: 0.8,
		Augmentation: Augmentation{HFlip: true, Contrast: 0.3}, Seed: 1}
}

// LearningRateAt is the StepLR learning rate of a 0-based epoch.
func (r Recipe) LearningRateAt(epoch int) float64 {
	if r.LRStepEpochs <= 0 {
		return r.LearningRate
	}
	return r.LearningRate * math.Pow(r.LRGamma, float64(epoch/r.LRStepEpochs))
}

// Validate reports recipe values that cannot train.
func (r Recipe) Validate() error {
	var errs []error
	if r.Epochs <= 0 {
		errs = append(errs, fmt.Errorf("epochs must be positive, got %d", r.Epochs))
	}
	if r.BatchSize <= 0 {
		errs = append(errs, fmt.Errorf("batch size must be positive, got %d", r.BatchSize))
	}
	if r.LearningRate <= 0 {
		errs = append(errs, fmt.Errorf("learning rate must be positive, got %g", r.LearningRate))
	}
	errs = append(errs, r.Augmentation.validate()...)
	errs = append(errs, r.validateSchedule()...)
	return errors.Join(errs...)
}
