package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/atomicfile"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/network"
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

// EpochStats records one epoch.
type EpochStats struct {
	Epoch            int     `json:"epoch"` // 1-based
	LearningRate     float64 `json:"learning_rate"`
	TrainLoss        float64 `json:"train_loss"`
	ValPixelAccuracy float64 `json:"val_pixel_accuracy"`
	ValMeanIoU       float64 `json:"val_mean_iou"`
	ValBorderIoU     float64 `json:"val_border_iou"`
	ValBoundaryF     float64 `json:"val_boundary_f"`
	ImagesPerSecond  float64 `json:"images_per_second"`
	Seconds          float64 `json:"seconds"`
	// PseudoExamples is how many pseudo-labeled photos the epoch trained on, PseudoCoverage the mean share of
	// their pixels confident enough to count (SemiSupervised).
	PseudoExamples int     `json:"pseudo_examples,omitempty"`
	PseudoCoverage float64 `json:"pseudo_coverage,omitempty"`
}

// Progress is what a checkpoint directory records besides the weights, to resume a run.
type Progress struct {
	Epoch   int          `json:"epoch"` // completed epochs
	Step    int          `json:"step"`  // completed steps of the next epoch (resume after SIGTERM mid-epoch)
	History []EpochStats `json:"history"`
}

// Trainer trains one network.
type Trainer struct {
	Net     network.Network
	Store   *gomlx.Store
	Backend compute.Backend
	Recipe  Recipe
	Logger  *zap.Logger
	// CheckpointDir, when set, receives a checkpoint after every epoch and when training is interrupted;
	// an existing checkpoint there is resumed.
	CheckpointDir string
	// OnEpoch, when set, is called after every epoch with the epoch's stats and the network's predicted masks for
	// Snapshot (the examples shown in the report).
	OnEpoch  func(stats EpochStats, predictions [][]uint8)
	Snapshot []Example
	// Semi, when set, adds pseudo-labeled unlabeled photos to the training epochs (self-training).
	Semi *SemiSupervised
	// LogEvery is the period of progress log lines (default 30 s).
	LogEvery time.Duration

	trainer *train.Trainer
	ckpt    *checkpoint.Handler
	ema     *weightAverage // nil unless Recipe.EMADecay > 0
	lr      float64        // learning rate last set
	lrSet   bool
	predict *gomlx.Exec // inference executor, built once: it reads the current weights at every call
	pseudo  pseudoState
}

// NewTrainer prepares training of cfg on backend (GoMLX's "onnx:cpu", "onnx:cuda" or "go").
func NewTrainer(backend compute.Backend, cfg model.Config, recipe Recipe, logger *zap.Logger) (*Trainer, error) {
	if err := recipe.Validate(); err != nil {
		return nil, err
	}
	if err := recipe.Loss().Validate(cfg.Classes); err != nil {
		return nil, err
	}
	net, err := network.New(cfg)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	store := gomlx.NewStore()
	store.SetParam(gomlx.ParamInitialSeed, int64(recipe.Seed))
	t := &Trainer{Net: net, Store: store, Backend: backend, Recipe: recipe, Logger: logger, LogEvery: 30 * time.Second}
	t.trainer = train.NewTrainer(backend, store,
		func(scope *gomlx.Scope, images *graph.Node) *graph.Node { return net.Forward(scope, images) },
		recipe.Loss().Func(),
		optimizer.Adam().LearningRate(recipe.LearningRate).WeightDecay(recipe.WeightDecay).Done(),
		nil, nil)
	return t, nil
}

// PixelCrossEntropy is nn.CrossEntropyLoss over logits [B, C, H, W] and labels [B, H, W] (int32 class ids),
// averaged over all pixels.
func PixelCrossEntropy(labels, predictions []*graph.Node) *graph.Node {
	return PixelLoss{}.Func()(labels, predictions)
}

// SmoothedPixelCrossEntropy is nn.CrossEntropyLoss(label_smoothing=epsilon): the targets are
// (1-epsilon)*one-hot + epsilon/classes. Epsilon 0 is PixelCrossEntropy.
func SmoothedPixelCrossEntropy(epsilon float64) func(labels, predictions []*graph.Node) *graph.Node {
	return PixelLoss{LabelSmoothing: epsilon}.Func()
}

// Train runs the recipe on the train split, evaluating on val after each epoch. It returns the history of all
// epochs (including those of a resumed checkpoint), also the epochs done before an error. Cancelling ctx checkpoints (when CheckpointDir is set) and
// returns ctx's error. With Recipe.EMADecay set, validation uses the averaged weights, and the store holds them
// when Train returns without error.
func (t *Trainer) Train(ctx context.Context, trainSet, valSet []Example, size int) ([]EpochStats, error) {
	if len(trainSet) == 0 {
		return nil, errors.New("train: empty training split")
	}
	if t.Semi != nil {
		if err := t.Semi.Validate(); err != nil {
			return nil, err
		}
	}
	if t.Recipe.EMADecay > 0 {
		t.ema = newWeightAverage(t.Recipe.EMADecay)
	}
	prog, err := t.openCheckpoint()
	if err != nil {
		return nil, err
	}
	r := t.Recipe
	for epoch := prog.Epoch; epoch < r.Epochs; epoch++ {
		set, err := t.epochSet(ctx, epoch, trainSet, size)
		if err != nil {
			return prog.History, err
		}
		stats, err := t.trainEpoch(ctx, &prog, epoch, set, size)
		if err != nil {
			return prog.History, err
		}
		if stats.PseudoExamples = len(set) - len(trainSet); stats.PseudoExamples > 0 {
			stats.PseudoCoverage = round(t.pseudo.coverage, 4)
		}
		if err := t.withAveragedWeights(func() error { return t.endOfEpoch(&stats, valSet, size) }); err != nil {
			return prog.History, err
		}
		prog.History = append(prog.History, stats)
		prog.Epoch = epoch + 1
		if err := t.saveCheckpoint(prog); err != nil {
			return prog.History, err
		}
	}
	if t.ema != nil {
		if err := t.ema.swap(t.Store); err != nil {
			return prog.History, err
		}
	}
	return prog.History, nil
}

// withAveragedWeights runs fn with the averaged weights in the store (when EMA is on), and restores them.
func (t *Trainer) withAveragedWeights(fn func() error) error {
	if t.ema == nil {
		return fn()
	}
	if err := t.ema.swap(t.Store); err != nil {
		return err
	}
	return errors.Join(fn(), t.ema.swap(t.Store))
}

// endOfEpoch evaluates on val, logs, and hands the snapshot predictions to OnEpoch.
func (t *Trainer) endOfEpoch(stats *EpochStats, valSet []Example, size int) error {
	if len(valSet) > 0 {
		m, err := t.Evaluate(valSet, size)
		if err != nil {
			return err
		}
		stats.ValPixelAccuracy, stats.ValMeanIoU = m.PixelAccuracy, m.MeanIoU
		stats.ValBorderIoU, stats.ValBoundaryF = m.BorderIoU, m.BoundaryF
	}
	t.Logger.Info("epoch done", zap.Int("epoch", stats.Epoch), zap.Float64("train_loss", stats.TrainLoss),
		zap.Float64("val_pixel_accuracy", stats.ValPixelAccuracy), zap.Float64("val_mean_iou", stats.ValMeanIoU),
		zap.Float64("val_border_iou", stats.ValBorderIoU), zap.Float64("val_boundary_f", stats.ValBoundaryF),
		zap.Float64("learning_rate", stats.LearningRate), zap.Float64("images_per_s", stats.ImagesPerSecond))
	if t.OnEpoch != nil {
		preds, err := t.Predict(t.Snapshot, size)
		if err != nil {
			return err
		}
		t.OnEpoch(*stats, preds)
	}
	return nil
}

// trainEpoch runs the steps of one 0-based epoch, from prog.Step on (a resumed epoch skips the steps done).
func (t *Trainer) trainEpoch(ctx context.Context, prog *Progress, epoch int, trainSet []Example, size int) (EpochStats, error) {
	r := t.Recipe
	stepsPerEpoch := (len(trainSet) + r.BatchSize - 1) / r.BatchSize
	order := epochOrder(r.Seed, epoch, len(trainSet))
	rng := rand.New(rand.NewPCG(r.Seed, uint64(epoch)+1))
	start, lastLog := time.Now(), time.Now()
	stats := EpochStats{Epoch: epoch + 1, LearningRate: r.LearningRateAtStep(epoch*stepsPerEpoch, stepsPerEpoch)}
	var lossSum float64
	var seen int
	for step := 0; step < stepsPerEpoch; step++ {
		lo, hi := step*r.BatchSize, min((step+1)*r.BatchSize, len(trainSet))
		batch := t.augmentedBatch(rng, trainSet, order[lo:hi], size)
		if step < prog.Step {
			batch.Finalize() //nolint:errcheck // Skipped batch of a resumed epoch: drawn to keep the RNG in step.
			continue
		}
		if err := ctx.Err(); err != nil {
			batch.Finalize() //nolint:errcheck
			prog.Epoch, prog.Step = epoch, step
			return stats, t.interrupted(*prog, err)
		}
		if err := t.setLearningRate(r.LearningRateAtStep(epoch*stepsPerEpoch+step, stepsPerEpoch)); err != nil {
			return stats, err
		}
		loss, err := t.Step(batch)
		if err != nil {
			return stats, fmt.Errorf("epoch %d step %d: %w", epoch+1, step+1, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return stats, fmt.Errorf("epoch %d step %d: loss is %g", epoch+1, step+1, loss)
		}
		if t.ema != nil {
			if err := t.ema.update(t.Store); err != nil {
				return stats, err
			}
		}
		lossSum += loss * float64(hi-lo)
		seen += hi - lo
		if time.Since(lastLog) >= t.LogEvery {
			lastLog = time.Now()
			rate := float64(seen) / time.Since(start).Seconds()
			remaining := float64((r.Epochs-epoch-1)*len(trainSet)+len(trainSet)-hi) / rate
			t.Logger.Info("training", zap.Int("epoch", epoch+1), zap.Int("epochs", r.Epochs),
				zap.Int("step", step+1), zap.Int("steps", stepsPerEpoch), zap.Float64("loss", loss),
				zap.Float64("images_per_s", round(rate, 1)), zap.Duration("eta", time.Duration(remaining)*time.Second))
		}
	}
	prog.Step = 0
	elapsed := time.Since(start)
	stats.Seconds = round(elapsed.Seconds(), 2)
	if seen > 0 {
		stats.TrainLoss = lossSum / float64(seen)
		stats.ImagesPerSecond = round(float64(seen)/elapsed.Seconds(), 2)
	}
	return stats, nil
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

// epochOrder is the deterministic shuffle of an epoch.
func epochOrder(seed uint64, epoch, n int) []int {
	r := rand.New(rand.NewPCG(seed^0x5eed, uint64(epoch)))
	return r.Perm(n)
}

func (t *Trainer) augmentedBatch(rng *rand.Rand, set []Example, idx []int, size int) train.Batch {
	plane := size * size
	images := make([]float32, len(idx)*3*plane)
	labels := make([]int32, len(idx)*plane)
	mask := make([]uint8, plane)
	for i, j := range idx {
		aug := t.Recipe.Augmentation
		if set[j].Pseudo && t.Semi != nil {
			aug = t.Semi.Augmentation
		}
		aug.Apply(rng, set[j], size, images[i*3*plane:(i+1)*3*plane], mask)
		for p, v := range mask {
			labels[i*plane+p] = int32(v)
		}
	}
	return train.Batch{
		Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(images, len(idx), 3, size, size)},
		Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, len(idx), size, size)},
	}
}

// setLearningRate sets Adam's learning-rate variable, creating it (as Adam would, in the optimizers scope)
// before the first training graph is built, so that the first step already runs at lr. It skips unchanged values.
func (t *Trainer) setLearningRate(lr float64) error {
	if t.lrSet && t.lr == lr {
		return nil
	}
	found := false
	for v := range t.Store.IterVariables() {
		if v.Name() == optimizer.ParamLearningRate {
			found = true
			value := tensors.FromScalar(float32(lr))
			if v.DType() == dtypes.Float64 {
				value = tensors.FromScalar(lr)
			}
			if err := v.SetValue(value); err != nil {
				return fmt.Errorf("set learning rate: %w", err)
			}
		}
	}
	if !found {
		v, err := t.Store.RootScope().At(optimizer.Scope).CreateVariable(optimizer.ParamLearningRate, tensors.FromScalar(float32(lr)))
		if err != nil {
			return fmt.Errorf("create learning rate: %w", err)
		}
		v.SetTrainable(false)
	}
	t.lr, t.lrSet = lr, true
	return nil
}

// Predict returns the predicted masks (model resolution) of examples, in inference mode.
func (t *Trainer) Predict(examples []Example, size int) ([][]uint8, error) {
	classes := t.Net.ModelConfig().Classes
	var masks [][]uint8
	for lo := 0; lo < len(examples); lo += predictChunk {
		batch := examples[lo:min(lo+predictChunk, len(examples))]
		logits, err := t.logits(examplesImages(batch), size)
		if err != nil {
			return nil, err
		}
		for _, l := range logits {
			m, err := imaging.MaskFromLogits(l, classes, size, size)
			if err != nil {
				return nil, err
			}
			masks = append(masks, m.Pix)
		}
	}
	return masks, nil
}

// predictChunk is how many images Predict runs at once.
const predictChunk = 16

// logits runs images (CHW, size x size) through the network in inference mode with the current weights.
func (t *Trainer) logits(images [][]float32, size int) ([][]float32, error) {
	if len(images) == 0 {
		return nil, nil
	}
	if t.predict == nil {
		exec, err := t.Net.InferenceExec(t.Backend, t.Store)
		if err != nil {
			return nil, err
		}
		t.predict = exec
	}
	plane := size * size
	flat := make([]float32, 0, len(images)*3*plane)
	for _, img := range images {
		flat = append(flat, img...)
	}
	outs, err := t.predict.Call(tensors.FromFlatDataAndDimensions(flat, len(images), 3, size, size))
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	all := tensors.MustCopyFlatData[float32](outs[0])
	outs[0].FinalizeAll() //nolint:errcheck
	per := len(all) / len(images)
	out := make([][]float32, len(images))
	for i := range out {
		out[i] = all[i*per : (i+1)*per : (i+1)*per]
	}
	return out, nil
}

// Evaluate computes the metrics of the network on examples at the model resolution, with no augmentation.
func (t *Trainer) Evaluate(examples []Example, size int) (Metrics, error) {
	preds, err := t.Predict(examples, size)
	if err != nil {
		return Metrics{}, err
	}
	score := NewScorer(t.Net.ModelConfig().Classes, size)
	for i, ex := range examples {
		if err := score.Add(ex.Mask, preds[i]); err != nil {
			return Metrics{}, err
		}
	}
	return score.Metrics(), nil
}

const progressFile = "progress.json"

func (t *Trainer) openCheckpoint() (Progress, error) {
	var prog Progress
	if t.CheckpointDir == "" {
		return prog, nil
	}
	h, err := checkpoint.Build(t.Store).Dir(t.CheckpointDir).Keep(2).Immediate().Done()
	if err != nil {
		return prog, fmt.Errorf("open checkpoint dir %s: %w", t.CheckpointDir, err)
	}
	t.ckpt = h
	b, err := os.ReadFile(filepath.Join(t.CheckpointDir, progressFile))
	if errors.Is(err, os.ErrNotExist) {
		return prog, nil
	}
	if err != nil {
		return prog, fmt.Errorf("read checkpoint progress: %w", err)
	}
	if err := json.Unmarshal(b, &prog); err != nil {
		return prog, fmt.Errorf("decode checkpoint progress: %w", err)
	}
	if t.ema != nil {
		if err := t.ema.load(t.CheckpointDir); err != nil {
			return prog, err
		}
	}
	t.Logger.Info("resuming from checkpoint", zap.String("dir", t.CheckpointDir),
		zap.Int("completed_epochs", prog.Epoch), zap.Int("completed_steps", prog.Step))
	return prog, nil
}

func (t *Trainer) saveCheckpoint(prog Progress) error {
	if t.ckpt == nil {
		return nil
	}
	if err := t.ckpt.Save(); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if t.ema != nil {
		if err := t.ema.save(t.CheckpointDir); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(prog, "", "  ")
	if err != nil {
		return fmt.Errorf("encode checkpoint progress: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(t.CheckpointDir, progressFile), b, 0o644); err != nil {
		return fmt.Errorf("checkpoint progress: %w", err)
	}
	return nil
}

func (t *Trainer) interrupted(prog Progress, cause error) error {
	if err := t.saveCheckpoint(prog); err != nil {
		return errors.Join(cause, err)
	}
	t.Logger.Info("training interrupted, checkpoint saved", zap.Int("epoch", prog.Epoch+1), zap.Int("step", prog.Step))
	return fmt.Errorf("training interrupted at epoch %d step %d (checkpoint saved): %w", prog.Epoch+1, prog.Step, cause)
}

// Step runs one training step on a prepared batch and returns the batch loss. It is exposed for benchmarks.
func (t *Trainer) Step(batch train.Batch) (float64, error) {
	metrics, err := t.trainer.TrainStep(batch)
	if err != nil {
		return 0, err
	}
	loss := scalar(metrics[0])
	for _, m := range metrics {
		m.FinalizeAll() //nolint:errcheck
	}
	return loss, nil
}
