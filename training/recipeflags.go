package training

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/vitseg/vitseg/internal/envflag"
)

// RegisterFlags registers vitseg train's flags of the recipe on fs, bound to r: the article's recipe, with the
// values of DefaultRecipe as their defaults, and the levers beyond it, whose defaults leave the recipe as it is
// (the schedule defaults to ScheduleStep).
func (r *Recipe) RegisterFlags(fs *flag.FlagSet) {
	def := DefaultRecipe()
	fs.IntVar(&r.Epochs, "epochs", def.Epochs, "training epochs")
	fs.IntVar(&r.BatchSize, "batch-size", def.BatchSize, "images per training step")
	fs.Float64Var(&r.LearningRate, "lr", def.LearningRate, "Adam learning rate")
	fs.IntVar(&r.LRStepEpochs, "lr-step-epochs", def.LRStepEpochs, "StepLR: multiply the learning rate by --lr-gamma every this many epochs")
	fs.Float64Var(&r.LRGamma, "lr-gamma", def.LRGamma, "StepLR factor")
	a := &r.Augmentation
	fs.Float64Var(&a.Contrast, "contrast", def.Augmentation.Contrast, "contrast jitter (torchvision ColorJitter contrast)")
	fs.BoolVar(&a.HFlip, "hflip", def.Augmentation.HFlip, "random horizontal flip of image and mask")
	fs.Float64Var(&a.CropScale, "crop-scale", def.Augmentation.CropScale, "random crop of side [crop-scale, 1] x image, resized back (0: off, the article's recipe)")
	fs.Uint64Var(&r.Seed, "seed", def.Seed, "random seed (same seed + same data = same model)")
	r.registerLevers(fs)
}

// registerLevers adds the flags of the levers beyond the article's recipe.
func (r *Recipe) registerLevers(fs *flag.FlagSet) {
	a := &r.Augmentation
	fs.Float64Var(&a.CropAspect, "crop-aspect", 0, "random resized crop: jitter the crop's aspect ratio in [1/a, a] (needs --crop-scale; 0: square)")
	fs.Float64Var(&a.Rotate, "rotate", 0, "random rotation of image and mask by up to this many degrees (0: off)")
	fs.Float64Var(&a.Brightness, "brightness", 0, "brightness jitter (torchvision ColorJitter brightness; 0: off)")
	fs.Float64Var(&a.Saturation, "saturation", 0, "saturation jitter (torchvision ColorJitter saturation; 0: off)")
	fs.Float64Var(&a.Hue, "hue", 0, "hue jitter in turns, at most 0.5 (torchvision ColorJitter hue; 0: off)")
	fs.StringVar(&r.Schedule, "schedule", ScheduleStep, "learning-rate schedule: step (StepLR, the article's) or cosine (per step, to 0)")
	fs.Float64Var(&r.WarmupEpochs, "warmup-epochs", 0, "linear learning-rate warm-up, in epochs (0: off)")
	fs.Float64Var(&r.WeightDecay, "weight-decay", 0, "AdamW decoupled weight decay (0: Adam, the article's)")
	fs.Float64Var(&r.LabelSmoothing, "label-smoothing", 0, "cross-entropy label smoothing (0: off)")
	fs.Float64Var(&r.EMADecay, "ema-decay", 0, "evaluate and export an exponential moving average of the weights with this decay, e.g. 0.999 (0: off)")
	r.ClassWeights = nil
	fs.Var((*floatList)(&r.ClassWeights), "class-weights", "cross-entropy weight of each class, comma list in class order pet,background,border, e.g. 1,1,2 (empty: all 1)")
	fs.Float64Var(&r.DiceWeight, "dice-weight", 0, "add this times the soft Dice loss (mean over classes) to the cross-entropy (0: off)")
}

// floatList is a flag.Value of comma-separated numbers.
type floatList []float64

func (f *floatList) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(*f))
	for i, v := range *f {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

func (f *floatList) Set(s string) error {
	var values []float64
	for _, part := range envflag.List(s) {
		v, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", part)
		}
		values = append(values, v)
	}
	*f = values
	return nil
}
