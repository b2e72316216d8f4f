package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/training"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseTrainFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := requireONNXExport("train"); err != nil {
		return err
	}
	log, err := f.lf.logger(stderr)
	if err != nil {
		return err
	}
	cfg, err := f.plan()
	if err != nil {
		return err
	}
	runtime, err := f.rt.open()
	if err != nil {
		return err
	}
	backendName, err := f.dev.gomlxBackend(ctx, runtime, f.backend, log)
	if err != nil {
		return err
	}
	if err := f.prepareOutput(); err != nil {
		return err
	}
	started := time.Now()
	if f.onlyScored {
		if err := limitToScored(ctx, f, log); err != nil {
			return err
		}
	}
	ds, err := loadData(ctx, f.data, f.s3, cfg.ImageSize, log)
	if err != nil {
		return err
	}
	semi, err := f.prepareSemi(ctx, ds, runtime, cfg, log)
	if err != nil {
		semi.Close() // the teacher, when it was opened before the failure
		return err
	}
	defer semi.Close()
	res, err := training.Run(ctx, training.RunConfig{Preset: f.preset, Model: cfg, Recipe: f.recipe, Seed: f.recipe.Seed,
		Dataset: ds, Backend: backendName, Runtime: runtime, Semi: semi.Settings, Unlabeled: semi.Summary,
		CheckpointDir: f.ckptDir, ReportExamples: f.reportExamples, ModelName: f.reg.name, CodeVersion: version,
		Out: f.out, Started: started, Logger: log})
	if err != nil {
		return err
	}
	if f.reg.bucket != "" {
		if err := publishTrained(ctx, f, runtime, ds, res, stdout, log); err != nil {
			return err
		}
	}
	evalSplit := res.Summary.EvalSplit
	m := res.Summary.Metrics[evalSplit]
	_, err = fmt.Fprintf(stdout, "wrote %s (%s); %s pixel accuracy %.4f, mean IoU %.4f\n",
		filepath.Join(f.out, training.RunModelFile), time.Since(started).Round(time.Second), evalSplit, m.PixelAccuracy, m.MeanIoU)
	return err
}

// limitToScored makes the dataset of f read only the labels serve has scored (--only-scored-labels).
func limitToScored(ctx context.Context, f *trainFlags, log *zap.Logger) error {
	reg, err := f.reg.open(f.s3, log)
	if err != nil {
		return err
	}
	if err := f.data.Validate(); err != nil {
		return usageError{err.Error()}
	}
	return f.data.LimitToScored(ctx, reg)
}

// prepareSemi loads the unlabeled photos and the teacher and returns the semi-supervised settings (zero when
// --unlabeled is not set); Close must be called, also after an error.
func (f *trainFlags) prepareSemi(ctx context.Context, ds *training.Dataset, rt *inference.Runtime, cfg model.Config,
	log *zap.Logger) (training.Semi, error) {
	none := training.Semi{Close: func() {}}
	if f.semi.Unlabeled == "" {
		return none, nil
	}
	if err := f.semi.Validate(); err != nil {
		return none, usageError{err.Error()}
	}
	plan, err := f.semi.Resolve(ctx, s3Client(f.s3), func() (*registry.Registry, error) { return f.reg.open(f.s3, log) })
	if err != nil {
		return none, err
	}
	s, err := training.PrepareSemi(ctx, plan, ds, rt, f.recipe, cfg, log)
	if err == nil {
		if verr := s.Settings.Validate(); verr != nil {
			err = usageError{verr.Error()}
		}
	}
	return s, err
}

// publishTrained offers the trained model to the registry's quality gate and prints its verdict.
func publishTrained(ctx context.Context, f *trainFlags, rt *inference.Runtime, ds *training.Dataset, res training.RunResult,
	stdout io.Writer, log *zap.Logger) error {
	reg, err := f.reg.open(f.s3, log)
	if err != nil {
		return err
	}
	split := res.Summary.EvalSplit
	pub, err := training.Publish(ctx, reg, rt, training.Publication{ONNX: res.ONNX, Meta: res.Meta, Split: split,
		Examples: ds.Splits[split], Dataset: res.Summary.Dataset, CodeVersion: version,
		ReportDir: filepath.Join(f.out, training.RunReportDir), Gate: f.reg.gate(), Force: f.reg.force,
		Candidate: f.promote == promoteShadow}, log)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "registry: version %s %s: %s\n", pub.Version, pub.Verdict(), pub.Reason)
	return err
}
