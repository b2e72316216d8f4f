package pipeline

import (
	"errors"
	"flag"
	"fmt"
)

// RegisterFlags registers serve's flags of the model lifecycle on fs, bound to c: shadow evaluation of the
// registry's candidate, automatic promotion and rollback, and labeled feedback. It sets c to DefaultLifecycle with
// a ShadowFraction of 0.1 (the flags' defaults): serve evaluates a candidate unless told not to.
func (c *LifecycleConfig) RegisterFlags(fs *flag.FlagSet) {
	def := DefaultLifecycle()
	*c = def
	fs.Float64Var(&c.ShadowFraction, "shadow-fraction", 0.1, "fraction of live images the registry's candidate also segments, off the live path (0: no shadow evaluation, promotion or rollback)")
	fs.IntVar(&c.ShadowQueue, "shadow-queue", 0, "sampled images waiting for the candidate; more are dropped (0: 2 x --max-batch)")
	fs.Float64Var(&c.ShadowCPUShare, "shadow-cpu-share", def.ShadowCPUShare, "the most seconds of candidate inference per second (a share of one core); sampled images beyond it are dropped and counted (0: no bound)")
	fs.Int64Var(&c.Policy.MinImages, "shadow-min-images", def.Policy.MinImages, "shadow images (all replicas) before the candidate is promoted or rejected")
	fs.Float64Var(&c.Policy.MinAgreement, "shadow-min-agreement", def.Policy.MinAgreement, "promote only when the candidate's mean pixel agreement with the current model is at least this")
	fs.Float64Var(&c.Policy.LatencyFactor, "shadow-latency-factor", def.Policy.LatencyFactor, "promote only when the candidate's p99 inference time per image is at most this factor of the current model's")
	fs.DurationVar(&c.Rollback.Window, "rollback-window", def.Rollback.Window, "how long after an automatic promotion the new version is watched for regressions")
	fs.Int64Var(&c.Rollback.MinImages, "rollback-min-images", def.Rollback.MinImages, "images (results and dead letters, all replicas) of the promoted version before it is judged")
	fs.Float64Var(&c.Rollback.MaxDeadLetterIncrease, "rollback-dead-letter-increase", def.Rollback.MaxDeadLetterIncrease, "roll back when the dead-letter rate rises by more than this (absolute) over the previous version's")
	fs.Float64Var(&c.Rollback.LatencyFactor, "rollback-latency-factor", def.Rollback.LatencyFactor, "roll back when the p99 inference time per image exceeds this factor of the previous version's")
	c.registerLabeled(fs, def)
}

// registerLabeled adds the flags of labeled feedback: where trimaps arrive and how the policies use the live
// labeled accuracy.
func (c *LifecycleConfig) registerLabeled(fs *flag.FlagSet, def LifecycleConfig) {
	fs.StringVar(&c.LabelsPrefix, "labels-prefix", "", "bucket/prefix of a labeled dataset in the Oxford-IIIT Pet layout: references to PREFIX/annotations/trimaps/NAME.png are scored (serving model and candidate against the trimap of the photo PREFIX/images/NAME.jpg) instead of segmented (empty: no labeled feedback)")
	fs.Int64Var(&c.Policy.MinLabeled, "shadow-min-labeled", def.Policy.MinLabeled, "labeled photos (all replicas) the candidate must be scored on before a decision, which then rests on labeled accuracy instead of agreement (0: agreement only)")
	fs.Float64Var(&c.Policy.AccuracyTolerance, "shadow-accuracy-tolerance", def.Policy.AccuracyTolerance, "with --shadow-min-labeled, promote only when the candidate's labeled pixel accuracy is at most this much lower than the current model's")
	fs.Int64Var(&c.Rollback.MinLabeled, "rollback-min-labeled", def.Rollback.MinLabeled, "labeled photos of the promoted version before its labeled accuracy is compared with the previous version's (0: never)")
	fs.Float64Var(&c.Rollback.MaxAccuracyDrop, "rollback-accuracy-drop", def.Rollback.MaxAccuracyDrop, "roll back when the labeled pixel accuracy drops by more than this (absolute) below the previous version's")
}

// Validate refuses values the policies cannot use, naming the flags of RegisterFlags.
func (c LifecycleConfig) Validate() error {
	switch {
	case c.ShadowCPUShare < 0:
		return fmt.Errorf("--shadow-cpu-share must not be negative, got %g", c.ShadowCPUShare)
	case c.ShadowFraction < 0 || c.ShadowFraction > 1:
		return fmt.Errorf("--shadow-fraction must be between 0 and 1, got %v", c.ShadowFraction)
	case c.Policy.MinImages < 1 || c.Rollback.MinImages < 1:
		return errors.New("--shadow-min-images and --rollback-min-images must be at least 1")
	case c.Policy.LatencyFactor <= 0 || c.Rollback.LatencyFactor <= 0:
		return errors.New("--shadow-latency-factor and --rollback-latency-factor must be positive")
	case c.Policy.MinLabeled < 0 || c.Rollback.MinLabeled < 0:
		return errors.New("--shadow-min-labeled and --rollback-min-labeled must not be negative")
	case c.Policy.AccuracyTolerance < 0 || c.Rollback.MaxAccuracyDrop < 0:
		return errors.New("--shadow-accuracy-tolerance and --rollback-accuracy-drop must not be negative")
	case c.LabelsPrefix != "" && c.ShadowFraction == 0:
		return errors.New("--labels-prefix needs the model lifecycle: a --shadow-fraction above 0")
	}
	return nil
}
