package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/vitseg/vitseg/internal/ops/segment"
	"github.com/vitseg/vitseg/model/imaging"
)

func runSegment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("segment", "segment --model FILE.onnx [--overlay] -o OUTDIR IMAGES...", stderr)
	modelPath := fs.String("model", "", "ONNX model file (required)")
	outDir := fs.String("o", "", "output directory for NAME.mask.png (and NAME.overlay.png) (required)")
	overlay := fs.Bool("overlay", false, "also write NAME.overlay.png: the mask blended over the photo")
	batchSize := fs.Int("batch", 8, "images per inference batch")
	var decode imaging.DecodeOptions
	decode.RegisterFlags(fs, "files")
	var local localModelFlags
	local.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	switch {
	case *modelPath == "":
		return usagef("--model is required")
	case *outDir == "":
		return usagef("-o OUTDIR is required")
	case len(files) == 0:
		return usagef("no images given")
	case *batchSize <= 0:
		return usagef("--batch must be positive")
	}
	if err := segment.CheckDistinct(files); err != nil {
		return usagef("%v", err)
	}
	_, sess, err := local.open(*modelPath, stderr)
	if err != nil {
		return err
	}
	defer sess.Close()
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	run := segment.Files{Session: sess, OutDir: *outDir, Overlay: *overlay, BatchSize: *batchSize, Decode: decode}
	failed, err := run.Run(ctx, files, stdout)
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be segmented", failed, len(files))
	}
	return nil
}
