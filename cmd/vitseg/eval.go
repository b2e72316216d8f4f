package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/vitseg/vitseg/internal/atomicfile"
	"github.com/vitseg/vitseg/training"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "eval --model FILE.onnx --data DIR|s3://BUCKET/PREFIX [--split test] [--out DIR]", stderr)
	modelPath := fs.String("model", "", "ONNX model file (required)")
	split := fs.String("split", training.SplitTest, "split to evaluate: train, val or test")
	out := fs.String("out", "", "directory for metrics.json (default: print only)")
	batch := fs.Int("batch", 16, "images per inference batch")
	var local localModelFlags
	var data dataFlags
	local.register(fs)
	data.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return usagef("--model is required")
	}
	switch *split {
	case training.SplitTrain, training.SplitVal, training.SplitTest:
	default:
		return usagef("--split must be train, val or test, got %q", *split)
	}
	log, sess, err := local.open(*modelPath, stderr)
	if err != nil {
		return err
	}
	defer sess.Close()
	ds, err := data.load(ctx, sess.Config().ImageSize, log)
	if err != nil {
		return err
	}
	examples := ds.Splits[*split]
	if len(examples) == 0 {
		return fmt.Errorf("split %q of %s is empty", *split, ds.Manifest.Source)
	}
	m, err := training.EvaluateSession(ctx, sess, examples, *batch)
	if err != nil {
		return err
	}
	result := evalResult{*modelPath, sess.Metadata().Version, *split, len(examples), ds.Manifest, m}
	return result.write(stdout, *out)
}

// evalResult is what vitseg eval prints and saves as metrics.json.
type evalResult struct {
	Model   string            `json:"model"`
	Version string            `json:"version"`
	Split   string            `json:"split"`
	Images  int               `json:"images"`
	Dataset training.Manifest `json:"dataset"`
	training.Metrics
}

// write prints the result as indented JSON and saves it as OUT/metrics.json when out is set.
func (r evalResult) write(stdout io.Writer, out string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode metrics: %w", err)
	}
	if out != "" {
		if err := atomicfile.WriteBytes(filepath.Join(out, "metrics.json"), js, 0o644); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(stdout, string(js))
	return err
}
