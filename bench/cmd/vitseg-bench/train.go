package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/network"
	"github.com/vitseg/vitseg/training"
)

// openBLASDir is where Debian's libopenblas0-openmp puts its libblas.so.3. Debian's python3-torch calls the
// system BLAS, which is netlib's reference implementation unless an optimised one is selected; the reference
// run prepends this directory to LD_LIBRARY_PATH when it exists (see -torch-blas).
const openBLASDir = "/usr/lib/x86_64-linux-gnu/openblas-openmp"

// trainFlags are the flags of vitseg-bench train.
type trainFlags struct {
	presets, rounds, steps string
	batch, warmup          int
	backendName            string
	python, script         string
	torchThreads           int
	torchBLAS, torchEnv    string
	seed                   int64
	ortLib, out            string
}

func parseTrainFlags(args []string, stderr io.Writer) (*trainFlags, error) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f trainFlags
	fs.StringVar(&f.presets, "presets", "small,article", "model presets")
	fs.IntVar(&f.batch, "batch", 16, "images per training step")
	fs.StringVar(&f.rounds, "rounds", "small=5,article=3", "interleaved rounds (each runs GoMLX, then PyTorch, or the "+
		"reverse): NAME=N list, or N")
	fs.StringVar(&f.steps, "steps", "small=4,article=1", "timed steps per implementation and round: NAME=N list, or N")
	fs.IntVar(&f.warmup, "warmup", 2, "untimed calls (of -steps steps) of each implementation before the rounds, after "+
		"GoMLX's compiling step and PyTorch's first step: the first steps after them still grow ONNX Runtime's arena "+
		"and the output buffers (page faults), which the steady state of a training run does not pay")
	fs.StringVar(&f.backendName, "backend", "onnx:cpu", "GoMLX backend")
	fs.StringVar(&f.python, "python", "/usr/bin/python3", "Python with Debian's python3-torch")
	fs.StringVar(&f.script, "script", "bench/reference/vit_train.py", "the PyTorch reference")
	fs.IntVar(&f.torchThreads, "torch-threads", runtime.NumCPU(), "torch.set_num_threads")
	fs.StringVar(&f.torchBLAS, "torch-blas", openBLASDir, "directory prepended to LD_LIBRARY_PATH for the reference "+
		"(an optimised libblas.so.3); empty: the system's BLAS")
	fs.StringVar(&f.torchEnv, "torch-env", "OMP_WAIT_POLICY=PASSIVE", "KEY=VALUE,... added to the reference's "+
		"environment (OpenMP's default busy-waiting collapses under a shared machine's load)")
	fs.Int64Var(&f.seed, "seed", 1, "seed of weights and data")
	fs.StringVar(&f.ortLib, "ort-lib", "", "ONNX Runtime library (default: $VITSEG_ORT_LIB, then the cache)")
	fs.StringVar(&f.out, "out", "", "directory to save the report as train.json")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return &f, nil
}

// presetCounts are the per-preset step and round counts, with their defaults for presets not named.
type presetCounts struct {
	steps, rounds       map[string]int
	defSteps, defRounds int
}

// counts parses -steps and -rounds and checks -batch and -torch-blas.
func (f *trainFlags) counts() (presetCounts, error) {
	var c presetCounts
	var err error
	if c.steps, c.defSteps, err = perPreset(f.steps); err != nil {
		return c, fmt.Errorf("-steps: %w", err)
	}
	if c.defSteps == 0 {
		c.defSteps = 1
	}
	if c.rounds, c.defRounds, err = perPreset(f.rounds); err != nil {
		return c, fmt.Errorf("-rounds: %w", err)
	}
	if c.defRounds == 0 {
		c.defRounds = 3
	}
	if f.batch <= 0 {
		return c, errors.New("-batch must be positive")
	}
	if f.warmup < 0 {
		return c, errors.New("-warmup must not be negative")
	}
	if f.torchBLAS != "" {
		if _, err := os.Stat(f.torchBLAS); err != nil {
			return c, fmt.Errorf("-torch-blas %s: %w (install Debian's libopenblas0-openmp, or pass -torch-blas= for "+
				"the system BLAS)", f.torchBLAS, err)
		}
	}
	return c, nil
}

// of is the number of steps and rounds of preset name.
func (c presetCounts) of(name string) (steps, rounds int) {
	steps, rounds = c.steps[name], c.rounds[name]
	if steps == 0 {
		steps = c.defSteps
	}
	if rounds == 0 {
		rounds = c.defRounds
	}
	return steps, rounds
}

// referenceEnv is what -torch-env and -torch-blas add to the reference's environment.
func (f *trainFlags) referenceEnv() ([]string, error) {
	env := envflag.List(f.torchEnv)
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, fmt.Errorf("-torch-env: %q is not KEY=VALUE", kv)
		}
	}
	if f.torchBLAS != "" {
		ld := f.torchBLAS
		if old := os.Getenv("LD_LIBRARY_PATH"); old != "" {
			ld += ":" + old
		}
		env = append(env, "LD_LIBRARY_PATH="+ld)
	}
	return env, nil
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseTrainFlags(args, stderr)
	if err != nil {
		return err
	}
	counts, err := f.counts()
	if err != nil {
		return err
	}
	rep := bench.NewReport("train", "vitseg-bench train "+strings.Join(args, " "))
	rt, err := openRuntime(f.ortLib)
	if err != nil {
		return err
	}
	backend, err := compute.NewWithConfig(f.backendName)
	if err != nil {
		return fmt.Errorf("GoMLX backend %s: %w", f.backendName, err)
	}
	defer backend.Finalize()
	env, err := f.referenceEnv()
	if err != nil {
		return err
	}
	blas := "the system BLAS"
	if f.torchBLAS != "" {
		blas = "the BLAS in " + f.torchBLAS
	}
	rep.Notef("GoMLX backend %s on ONNX Runtime %s (its default thread pool); PyTorch reference %s with %d threads, "+
		"%s, environment %q; batch %d, Adam 4e-4, pixel cross-entropy, dropout active, random images and labels",
		f.backendName, rt.Version(), f.script, f.torchThreads, blas, f.torchEnv, f.batch)

	for _, name := range envflag.List(f.presets) {
		cfg, err := model.Preset(name)
		if err != nil {
			return err
		}
		steps, rounds := counts.of(name)
		if err := benchTrainPreset(ctx, rep, trainSetup{
			name: name, cfg: cfg, batch: f.batch, steps: steps, rounds: rounds, warmup: f.warmup, backend: backend, seed: f.seed,
			python: f.python, script: f.script, threads: f.torchThreads, env: env, log: stderr,
		}); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return finish(rep, stdout, f.out)
}

type trainSetup struct {
	name           string
	cfg            model.Config
	batch, steps   int
	rounds, warmup int
	backend        compute.Backend
	seed           int64
	python, script string
	threads        int
	env            []string // added to the reference's environment
	log            io.Writer
}

// benchTrainPreset measures GoMLX's and the PyTorch reference's training steps on one preset in interleaved
// rounds and adds the results to rep.
func benchTrainPreset(ctx context.Context, rep *bench.Report, s trainSetup) error {
	params, err := network.CountTrainableParams(s.cfg)
	if err != nil {
		return err
	}
	if params != s.cfg.NumParams() {
		return fmt.Errorf("GoMLX graph has %d trainable parameters, the configuration %d", params, s.cfg.NumParams())
	}
	goStep, err := newGoStep(s)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := goStep(); err != nil { // Builds and compiles the training graph.
		return fmt.Errorf("GoMLX warm-up step: %w", err)
	}
	fmt.Fprintf(s.log, "%s: GoMLX first step (graph build + compile + step) %s\n", s.name, time.Since(start).Round(time.Millisecond))

	ref, err := startReference(ctx, s)
	if err != nil {
		return err
	}
	defer ref.close()
	if ref.ready.Params != params {
		return fmt.Errorf("PyTorch reference has %d parameters, GoMLX %d", ref.ready.Params, params)
	}
	fmt.Fprintf(s.log, "%s: PyTorch %s ready with %d threads (%d parameters)\n", s.name, ref.ready.Torch, ref.ready.Threads, ref.ready.Params)

	series, err := bench.Interleave(ctx, bench.Plan{Rounds: s.rounds, MinCalls: 1, Warmup: s.warmup, Log: s.log,
		Probe: bench.CPUProbe()},
		trainCases(s, goStep, ref)...)
	if err != nil {
		return err
	}
	reportTrainPreset(rep, s, series)
	return nil
}

// newGoStep returns one GoMLX training step of the preset on a fixed batch of random images and labels; it fails
// when the loss is not finite and positive.
func newGoStep(s trainSetup) (func() error, error) {
	recipe := training.DefaultRecipe()
	recipe.BatchSize, recipe.Seed = s.batch, uint64(s.seed)
	tr, err := training.NewTrainer(s.backend, s.cfg, recipe, nil)
	if err != nil {
		return nil, err
	}
	size := s.cfg.ImageSize
	r := rand.New(rand.NewPCG(uint64(s.seed), 3))
	images := make([]float32, s.batch*s.cfg.InChannels*size*size)
	labels := make([]int32, s.batch*size*size)
	for i := range images {
		images[i] = r.Float32()
	}
	for i := range labels {
		labels[i] = int32(r.IntN(s.cfg.Classes))
	}
	return func() error {
		b := train.Batch{
			Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(images, s.batch, s.cfg.InChannels, size, size)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, s.batch, size, size)},
		}
		loss, err := tr.Step(b)
		if err == nil && (loss != loss || loss <= 0) {
			err = fmt.Errorf("loss %g", loss)
		}
		return err
	}, nil
}

// trainCases are the two cases of a round: s.steps GoMLX steps, then as many in the reference.
func trainCases(s trainSetup, goStep func() error, ref *reference) []bench.Case {
	units := float64(s.batch * s.steps)
	return []bench.Case{
		{Name: "gomlx " + s.name, Units: units, Call: bench.Timed(func(ctx context.Context) error {
			for range s.steps {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := goStep(); err != nil {
					return err
				}
			}
			return nil
		})},
		{Name: "pytorch " + s.name, Units: units, Call: func(ctx context.Context) (time.Duration, error) {
			return ref.steps(ctx, s.steps)
		}},
	}
}

// reportTrainPreset adds the throughput, ratio, GFLOP/s and CPU time of GoMLX (series[0]) and the reference
// (series[1]).
func reportTrainPreset(rep *bench.Report, s trainSetup, series []bench.Series) {
	note := fmt.Sprintf("batch %d, %d steps per round after %d untimed calls", s.batch, s.steps, s.warmup)
	rep.AddRounds(series[0].Name+" images/s", series[0].Rates, "images/s", note)
	rep.AddRounds(series[1].Name+" images/s", series[1].Rates, "images/s", note)
	rep.AddRounds(s.name+" gomlx/pytorch", bench.Ratios(series[0], series[1]), "ratio", "same round")
	gflop := 3 * s.cfg.FLOPsPerImage() / 1e9 // forward + backward (about twice the forward)
	rep.AddRounds(series[0].Name+" GFLOP/s", scale(series[0].Rates, gflop), "GFLOP/s", "3x forward FLOPs per image")
	rep.AddRounds(series[1].Name+" GFLOP/s", scale(series[1].Rates, gflop), "GFLOP/s", "3x forward FLOPs per image")
	for _, c := range []struct {
		s       bench.Series
		process string
	}{{series[0], "self"}, {series[1], "python3"}} {
		cpu, sys := c.s.ProbeMedian(c.process), c.s.ProbeMedian(c.process+bench.SysSuffix)
		rep.Add(c.s.Name+" CPU", cpu, "CPU-s/image", fmt.Sprintf("%s process; %.0f%% of it in the kernel; %.2f cores busy",
			c.process, 100*sys/cpu, cpu*c.s.Median()))
	}
}
