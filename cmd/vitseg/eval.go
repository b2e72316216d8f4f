package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/vitseg/vitseg/internal/atomicfile"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/training"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "eval --model FILE.onnx --data DIR|s3://BUCKET/PREFIX [--split test] [--out DIR]", stderr)
	modelPath := fs.String("model", "", "ONNX model file (required)")
	split := fs.String("split", training.SplitTest, "split to evaluate: train, val or test")
	out := fs.String("out", "", "directory for metrics.json (default: print only)")
	batch := fs.Int("batch", 16, "images per inference batch")
	var local localModelFlags
	var data training.DataConfig
	var s3 objstore.Config
	local.register(fs)
	data.RegisterFlags(fs)
	s3.RegisterFlags(fs)
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
	ds, err := loadData(ctx, data, s3, sess.Config().ImageSize, log)
	if err != nil {
		return err
	}
	rep, err := training.EvaluateSplit(ctx, sess, *modelPath, ds, *split, *batch)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode metrics: %w", err)
	}
	if *out != "" {
		if err := atomicfile.WriteBytes(filepath.Join(*out, "metrics.json"), js, 0o644); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(stdout, string(js))
	return err
}
