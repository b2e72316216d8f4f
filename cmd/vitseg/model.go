package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gomlx/compute"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/internal/atomicfile"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/network"
)

// modelCommands are the subcommands of "vitseg model".
func modelCommands() []command {
	return []command{
		{name: "summary", summary: "print a model's layers and parameters", run: runModelSummary},
		{name: "init", summary: "write a freshly initialised model", run: runModelInit},
	}
}

func runModelSummary(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("model summary", "model summary [--preset NAME] [architecture options]", stderr)
	var preset string
	var arch model.ArchOptions
	model.RegisterPresetFlag(fs, &preset, model.PresetArticle)
	arch.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := model.Choose(preset, arch)
	if err != nil {
		return usageError{err.Error()}
	}
	trace, err := network.TraceShapes(cfg, 1)
	if err != nil {
		return err
	}
	return model.WriteSummary(stdout, preset, cfg, trace)
}

func runModelInit(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("model init", "model init --preset NAME -o FILE.onnx", stderr)
	var preset string
	model.RegisterPresetFlag(fs, &preset, model.PresetSmall)
	out := fs.String("o", "", "output ONNX file (required)")
	name := fs.String("name", "vitseg", "model name stored in the file")
	seed := fs.Int64("seed", 1, "random seed of the initial weights")
	var rt runtimeFlags
	rt.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("-o FILE.onnx is required")
	}
	if err := requireONNXExport("model init"); err != nil {
		return err
	}
	cfg, err := model.Preset(preset)
	if err != nil {
		return usagef("--preset: %v", err)
	}
	if _, err := rt.open(); err != nil {
		return err
	}
	backend, err := compute.NewWithConfig("onnx:cpu")
	if err != nil {
		return fmt.Errorf("GoMLX ONNX backend: %w", err)
	}
	defer backend.Finalize()
	net, err := network.New(cfg)
	if err != nil {
		return err
	}
	store := gomlx.NewStore()
	store.SetParam(gomlx.ParamInitialSeed, *seed)
	b, err := network.Export(backend, net, store, model.Metadata{
		Name: *name, Version: "init", Preset: preset, CreatedAt: time.Now().UTC(), CodeVersion: version,
	})
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(*out, b, 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s: preset %s, %d parameters, %d bytes (random weights)\n",
		*out, preset, cfg.NumParams(), len(b))
	return err
}
