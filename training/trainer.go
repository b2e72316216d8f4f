package training

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/network"
)

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
