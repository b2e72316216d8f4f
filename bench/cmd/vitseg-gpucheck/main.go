// Command vitseg-gpucheck measures vitseg on an NVIDIA GPU: ONNX Runtime inference with the CUDA execution
// provider (and the CPU provider, side by side) at several batch sizes, and GoMLX training steps on the
// onnx:cuda backend. It prints one JSON line per measurement; scripts/gpu-check.sh runs it next to the PyTorch
// reference (bench/reference/vit_gpu.py) on the same machine.
//
// Usage: vitseg-gpucheck [-presets small,article] [-batches 1,8,32] [-train-batch 16] [-min-time 2s]
//
//	vitseg-gpucheck -parity MODEL.onnx [-ort-verbose]   CUDA against CPU logits of one model
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute-onnx" // GoMLX's ONNX Runtime backend.
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/vitseg/vitseg/internal/host/cuda"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/vit"
	"github.com/vitseg/vitseg/training"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vitseg-gpucheck:", err)
		os.Exit(1)
	}
}

// checkFlags are the flags of vitseg-gpucheck.
type checkFlags struct {
	presets, batches, devices string
	trainBatch                int
	trainBackend              string
	minTime                   time.Duration
	parityModel               string
	verbose                   bool
}

// parseCheckFlags defines the flags on the command line's flag set and parses the arguments.
func parseCheckFlags() *checkFlags {
	var f checkFlags
	flag.StringVar(&f.presets, "presets", "small,article", "model presets (random weights)")
	flag.StringVar(&f.batches, "batches", "1,8,32", "inference batch sizes")
	flag.StringVar(&f.devices, "devices", "cuda,cpu", "ONNX Runtime execution providers to compare")
	flag.IntVar(&f.trainBatch, "train-batch", 16, "training batch size (0: skip training)")
	flag.StringVar(&f.trainBackend, "train-backend", "onnx:cuda", "GoMLX backend for the training steps")
	flag.DurationVar(&f.minTime, "min-time", 2*time.Second, "measured time per case")
	flag.StringVar(&f.parityModel, "parity", "", "only compare CUDA with CPU logits of this ONNX model, then exit")
	flag.BoolVar(&f.verbose, "ort-verbose", false, "ONNX Runtime verbose log (node placements on stderr)")
	flag.Parse()
	return &f
}

func run() error {
	f := parseCheckFlags()
	rt, err := openRuntime(f.verbose)
	if err != nil {
		return err
	}
	if f.parityModel != "" {
		return parity(context.Background(), rt, f.parityModel, 8)
	}
	exportBackend, err := compute.NewWithConfig("onnx:cpu")
	if err != nil {
		return err
	}
	ctx := context.Background()
	for _, preset := range strings.Split(f.presets, ",") {
		if err := checkPreset(ctx, rt, exportBackend, preset, f); err != nil {
			return err
		}
	}
	return nil
}

// openRuntime opens the default ONNX Runtime library, with its verbose log when verbose, and emits its version.
func openRuntime(verbose bool) (*inference.Runtime, error) {
	lib, err := inference.ResolveLibrary("")
	if err != nil {
		return nil, err
	}
	if verbose {
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelVerbose()); err != nil {
			return nil, err
		}
	}
	rt, err := inference.Open(lib)
	if err != nil {
		return nil, err
	}
	emit(map[string]any{"event": "runtime", "ort": rt.Version(), "library": lib})
	return rt, nil
}

// checkPreset measures inference of a randomly initialised preset on each device, then its training steps; a
// device or a training backend that fails is emitted as an error event, not returned.
func checkPreset(ctx context.Context, rt *inference.Runtime, exportBackend compute.Backend, preset string, f *checkFlags) error {
	cfg, err := model.Preset(preset)
	if err != nil {
		return err
	}
	net, err := vit.New(cfg)
	if err != nil {
		return err
	}
	store := gomlx.NewStore()
	store.SetParam(gomlx.ParamInitialSeed, int64(1))
	onnxBytes, err := vit.Export(exportBackend, net, store, model.Metadata{Name: "gpucheck", Version: preset})
	if err != nil {
		return fmt.Errorf("export %s: %w", preset, err)
	}
	for _, dev := range strings.Split(f.devices, ",") {
		if err := inferenceRates(ctx, rt, onnxBytes, cfg, preset, dev, f); err != nil {
			return err
		}
	}
	if f.trainBatch > 0 {
		if err := trainSteps(cfg, preset, f.trainBackend, f.trainBatch, f.minTime); err != nil {
			emit(map[string]any{"event": "train", "preset": preset, "backend": f.trainBackend, "error": err.Error()})
		}
	}
	return nil
}

// inferenceRates measures the model on device dev at each batch size; a model that does not load there is emitted
// as an error event.
func inferenceRates(ctx context.Context, rt *inference.Runtime, onnxBytes []byte, cfg model.Config, preset, dev string, f *checkFlags) error {
	d, err := inference.ParseDevice(dev)
	if err != nil {
		return err
	}
	sess, err := rt.Load(onnxBytes, inference.Options{Device: d})
	if err != nil {
		emit(map[string]any{"event": "inference", "preset": preset, "device": dev, "error": err.Error()})
		return nil
	}
	defer sess.Close() //nolint:errcheck
	for _, bs := range strings.Split(f.batches, ",") {
		batch, err := strconv.Atoi(bs)
		if err != nil {
			return err
		}
		images := make([]float32, batch*sess.ImageLen())
		r := rand.New(rand.NewPCG(1, uint64(batch)))
		for i := range images {
			images[i] = r.Float32()
		}
		call := func() error { _, err := sess.Run(ctx, images, batch); return err }
		ips, calls, err := measure(call, batch, f.minTime)
		if err != nil {
			return fmt.Errorf("%s %s b%d: %w", preset, dev, batch, err)
		}
		emit(map[string]any{"event": "inference", "preset": preset, "device": dev, "provider": sess.Provider(),
			"batch": batch, "images_per_s": ips, "calls": calls,
			"gflops": ips * cfg.FLOPsPerImage() / 1e9})
	}
	return nil
}

func trainSteps(cfg model.Config, preset, backendName string, batch int, minTime time.Duration) error {
	if strings.HasSuffix(backendName, ":cuda") {
		if err := cuda.PreloadRuntime(); err != nil { // GoMLX looks for libcudart.so, .so.12 and .so.11 only
			return err
		}
	}
	backend, err := compute.NewWithConfig(backendName)
	if err != nil {
		return err
	}
	defer backend.Finalize()
	tr, err := training.NewTrainer(backend, cfg, training.DefaultRecipe(), nil)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 1))
	images := make([]float32, batch*3*cfg.ImageSize*cfg.ImageSize)
	labels := make([]int32, batch*cfg.ImageSize*cfg.ImageSize)
	for i := range images {
		images[i] = r.Float32()
	}
	for i := range labels {
		labels[i] = int32(r.IntN(cfg.Classes))
	}
	step := func() error {
		_, err := tr.Step(train.Batch{
			Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(images, batch, 3, cfg.ImageSize, cfg.ImageSize)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, batch, cfg.ImageSize, cfg.ImageSize)},
		})
		return err
	}
	ips, calls, err := measure(step, batch, minTime)
	if err != nil {
		return err
	}
	emit(map[string]any{"event": "train", "preset": preset, "backend": backendName, "batch": batch,
		"images_per_s": ips, "steps": calls})
	return nil
}

// measure warms up with two calls, then calls fn for at least minTime (and 3 calls) and returns images/s.
func measure(fn func() error, batch int, minTime time.Duration) (float64, int, error) {
	for range 2 {
		if err := fn(); err != nil {
			return 0, 0, err
		}
	}
	start := time.Now()
	calls := 0
	for calls < 3 || time.Since(start) < minTime {
		if err := fn(); err != nil {
			return 0, calls, err
		}
		calls++
	}
	return float64(calls*batch) / time.Since(start).Seconds(), calls, nil
}

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}
