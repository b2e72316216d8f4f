package main

import (
	"flag"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/training"
)

// leverFlags are the training levers and architecture options beyond the article's recipe; their defaults leave
// the recipe and the preset's architecture as they are (--drop-path 0 turns a preset's stochastic depth off).
type leverFlags struct {
	cropAspect, rotate, brightness, saturation, hue float64
	schedule                                        string
	warmup, weightDecay, labelSmoothing, emaDecay   float64
	classWeights                                    floatList
	diceWeight                                      float64
	arch                                            archFlags
}

func (l *leverFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&l.cropAspect, "crop-aspect", 0, "random resized crop: jitter the crop's aspect ratio in [1/a, a] (needs --crop-scale; 0: square)")
	fs.Float64Var(&l.rotate, "rotate", 0, "random rotation of image and mask by up to this many degrees (0: off)")
	fs.Float64Var(&l.brightness, "brightness", 0, "brightness jitter (torchvision ColorJitter brightness; 0: off)")
	fs.Float64Var(&l.saturation, "saturation", 0, "saturation jitter (torchvision ColorJitter saturation; 0: off)")
	fs.Float64Var(&l.hue, "hue", 0, "hue jitter in turns, at most 0.5 (torchvision ColorJitter hue; 0: off)")
	fs.StringVar(&l.schedule, "schedule", training.ScheduleStep, "learning-rate schedule: step (StepLR, the article's) or cosine (per step, to 0)")
	fs.Float64Var(&l.warmup, "warmup-epochs", 0, "linear learning-rate warm-up, in epochs (0: off)")
	fs.Float64Var(&l.weightDecay, "weight-decay", 0, "AdamW decoupled weight decay (0: Adam, the article's)")
	fs.Float64Var(&l.labelSmoothing, "label-smoothing", 0, "cross-entropy label smoothing (0: off)")
	fs.Float64Var(&l.emaDecay, "ema-decay", 0, "evaluate and export an exponential moving average of the weights with this decay, e.g. 0.999 (0: off)")
	fs.Var(&l.classWeights, "class-weights", "cross-entropy weight of each class, comma list in class order pet,background,border, e.g. 1,1,2 (empty: all 1)")
	fs.Float64Var(&l.diceWeight, "dice-weight", 0, "add this times the soft Dice loss (mean over classes) to the cross-entropy (0: off)")
	l.arch.register(fs)
}

// apply sets the levers on recipe and cfg.
func (l *leverFlags) apply(recipe *training.Recipe, cfg *model.Config) {
	a := &recipe.Augmentation
	a.CropAspect, a.Rotate, a.Brightness, a.Saturation, a.Hue = l.cropAspect, l.rotate, l.brightness, l.saturation, l.hue
	recipe.Schedule, recipe.WarmupEpochs, recipe.WeightDecay = l.schedule, l.warmup, l.weightDecay
	recipe.LabelSmoothing, recipe.EMADecay = l.labelSmoothing, l.emaDecay
	recipe.ClassWeights, recipe.DiceWeight = l.classWeights, l.diceWeight
	l.arch.apply(cfg)
}
