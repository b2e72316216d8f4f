package training

import (
	"context"
	"fmt"

	"github.com/vitseg/vitseg/model/inference"
)

// EvalReport is a model's evaluation on one split of a dataset: what `vitseg eval` prints and saves as
// metrics.json.
type EvalReport struct {
	Model   string   `json:"model"`
	Version string   `json:"version"`
	Split   string   `json:"split"`
	Images  int      `json:"images"`
	Dataset Manifest `json:"dataset"`
	Metrics
}

// EvaluateSplit evaluates sess (the model file named model) on split of ds, batch images per run.
func EvaluateSplit(ctx context.Context, sess *inference.Session, model string, ds *Dataset, split string, batch int) (EvalReport, error) {
	examples := ds.Splits[split]
	if len(examples) == 0 {
		return EvalReport{}, fmt.Errorf("split %q of %s is empty", split, ds.Manifest.Source)
	}
	m, err := EvaluateSession(ctx, sess, examples, batch)
	if err != nil {
		return EvalReport{}, err
	}
	return EvalReport{Model: model, Version: sess.Metadata().Version, Split: split, Images: len(examples), Dataset: ds.Manifest, Metrics: m}, nil
}
