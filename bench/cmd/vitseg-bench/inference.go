package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute-onnx" // GoMLX's ONNX Runtime backend, to export the models.
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/vit"
)

// inferenceFlags are the flags of vitseg-bench inference.
type inferenceFlags struct {
	presets, batches string
	rounds           int
	minTime          time.Duration
	matmulN          int
	threads          int
	noSpin           bool
	opProfileBatch   int
	files            string
	seed             int64
	ortLib, out      string
}

func parseInferenceFlags(args []string, stderr io.Writer) (*inferenceFlags, error) {
	fs := flag.NewFlagSet("inference", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f inferenceFlags
	fs.StringVar(&f.presets, "presets", "small,article", "model presets (random weights)")
	fs.StringVar(&f.batches, "batches", "1,8,32", "batch sizes")
	fs.IntVar(&f.rounds, "rounds", 3, "interleaved rounds over all cases")
	fs.DurationVar(&f.minTime, "min-time", time.Second, "measured time per case and slice (at least one call)")
	fs.IntVar(&f.matmulN, "matmul", 2048, "side of the square float32 MatMul that gives the ceiling")
	fs.IntVar(&f.threads, "threads", runtime.NumCPU(), "ONNX Runtime intra-op threads, for the models and the MatMul")
	fs.BoolVar(&f.noSpin, "nospin-matmul", true, "also measure the MatMul with ONNX Runtime's thread spinning off")
	fs.IntVar(&f.opProfileBatch, "op-profile", 0, "after the rounds, profile each model at this batch size with "+
		"ONNX Runtime's operator profiling and report the kernel time of each operator type (0: off)")
	fs.StringVar(&f.files, "models", "model/zoo/small/model.onnx", "ONNX files measured beside the presets (their "+
		"configuration from the file's metadata), comma-separated, named by their last two folders (default: the "+
		"shipped model, zoo/small); empty: none")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the random weights and inputs")
	fs.StringVar(&f.ortLib, "ort-lib", "", "ONNX Runtime library (default: $VITSEG_ORT_LIB, then the cache)")
	fs.StringVar(&f.out, "out", "", "directory to save the report as inference.json")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return &f, nil
}

func runInference(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseInferenceFlags(args, stderr)
	if err != nil {
		return err
	}
	sizes, err := splitInts(f.batches)
	if err != nil {
		return fmt.Errorf("-batches: %w", err)
	}
	rep := bench.NewReport("inference", "vitseg-bench inference "+strings.Join(args, " "))
	rt, err := openRuntime(f.ortLib)
	if err != nil {
		return err
	}
	rep.Notef("ONNX Runtime %s (CPU provider), %d intra-op threads for models and MatMul; random weights; "+
		"images/s counts Session.Run only (no decode or post-processing)", rt.Version(), f.threads)
	models, err := loadModels(rt, envflag.List(f.presets), envflag.List(f.files), f, stderr)
	if err != nil {
		return err
	}
	defer models.close()
	cases, closeMatMuls, err := matMulCases(f)
	if err != nil {
		return err
	}
	defer closeMatMuls()
	first := len(cases) // the model cases follow the MatMuls
	mcases := modelCases(models, sizes, f.seed)
	for _, mc := range mcases {
		cases = append(cases, mc.benchCase())
	}
	// The MatMul brackets every other case: each ratio compares measurements a few seconds apart.
	series, err := bench.Interleave(ctx, bench.Plan{Rounds: f.rounds, MinTime: f.minTime, MinCalls: 1, Warmup: 1,
		Bracket: true, Log: stderr}, cases...)
	if err != nil {
		return err
	}
	reportMatMuls(rep, series, f.noSpin)
	for i, mc := range mcases {
		mc.report(rep, series[first+i])
	}
	if f.opProfileBatch > 0 {
		if err := profileOps(ctx, rt, models, f, rep); err != nil {
			return fmt.Errorf("-op-profile: %w", err)
		}
	}
	return finish(rep, stdout, f.out)
}

// matMulCases are the ceiling cases: the MatMul, and with -nospin-matmul the same MatMul without thread spinning.
// closeAll closes their sessions.
func matMulCases(f *inferenceFlags) (cases []bench.Case, closeAll func(), err error) {
	n := f.matmulN
	mm, err := bench.NewMatMul(n, n, n, bench.MatMulOptions{IntraOpThreads: f.threads}, uint64(f.seed))
	if err != nil {
		return nil, nil, err
	}
	name := matMulName(n)
	cases = []bench.Case{{Name: name, Units: mm.FLOPs(), Call: bench.Timed(mm.Run)}}
	if !f.noSpin {
		return cases, func() { mm.Close() }, nil
	}
	quiet, err := bench.NewMatMul(n, n, n, bench.MatMulOptions{IntraOpThreads: f.threads, NoSpinning: true}, uint64(f.seed))
	if err != nil {
		mm.Close()
		return nil, nil, err
	}
	cases = append(cases, bench.Case{Name: name + " no-spin", Units: quiet.FLOPs(), Call: bench.Timed(quiet.Run)})
	return cases, func() { quiet.Close(); mm.Close() }, nil
}

func matMulName(n int) string { return fmt.Sprintf("MatMul %dx%dx%d", n, n, n) }

// reportMatMuls adds the ceiling's rounds (series[0]) and, with noSpin, the no-spin MatMul's (series[1]).
func reportMatMuls(rep *bench.Report, series []bench.Series, noSpin bool) {
	rep.AddRounds(series[0].Name+" (ceiling)", scale(series[0].Rates, 1e-9), "GFLOP/s",
		"ONNX Runtime, float32, same session options as the models; every slice")
	if noSpin {
		rep.AddRounds(series[1].Name, scale(series[1].Rates, 1e-9), "GFLOP/s", "session.intra_op.allow_spinning=0")
		rep.AddRounds("no-spin / spinning MatMul", series[1].RefRatios(), "ratio", "bracketed by the spinning MatMul")
	}
}

// modelCase is one model at one batch size, with its random input images.
type modelCase struct {
	m      loadedModel
	batch  int
	images []float32
}

// modelCases are the cases of every model at every batch size, in that order.
func modelCases(models loadedModels, sizes []int, seed int64) []modelCase {
	var mcases []modelCase
	r := rand.New(rand.NewPCG(uint64(seed), 2))
	for _, m := range models {
		for _, batch := range sizes {
			images := make([]float32, batch*m.sess.ImageLen())
			for i := range images {
				images[i] = r.Float32()
			}
			mcases = append(mcases, modelCase{m, batch, images})
		}
	}
	return mcases
}

func (mc modelCase) benchCase() bench.Case {
	return bench.Case{Name: fmt.Sprintf("%s b%d", mc.m.name, mc.batch), Units: float64(mc.batch),
		Call: bench.Timed(func(ctx context.Context) error {
			_, err := mc.m.sess.Run(ctx, mc.images, mc.batch)
			return err
		})}
}

// report adds the case's throughput, latency, GFLOP/s and ratio to the ceiling.
func (mc modelCase) report(rep *bench.Report, s bench.Series) {
	flops := mc.m.cfg.FLOPsPerImage()
	gflops := scale(s.Rates, flops/1e9)
	msPerBatch := make([]float64, len(s.Rates))
	for k, v := range s.Rates {
		msPerBatch[k] = 1000 * float64(mc.batch) / v
	}
	rep.AddRounds(s.Name+" images/s", s.Rates, "images/s", "")
	rep.AddRounds(s.Name+" latency", msPerBatch, "ms/batch", "")
	rep.AddRounds(s.Name+" GFLOP/s", gflops, "GFLOP/s", fmt.Sprintf("%.3f GFLOP/image", flops/1e9))
	rep.AddRounds(s.Name+" / ceiling", scale(s.RefRatios(), flops), "ratio",
		"model GFLOP/s over the MatMul's measured right before and after")
}

// exportRandom exports a randomly initialised model of cfg with GoMLX's ONNX backend.
func exportRandom(cfg model.Config, name string, seed int64) ([]byte, error) {
	backend, err := compute.NewWithConfig("onnx:cpu")
	if err != nil {
		return nil, fmt.Errorf("GoMLX backend: %w", err)
	}
	defer backend.Finalize()
	net, err := vit.New(cfg)
	if err != nil {
		return nil, err
	}
	store := gomlx.NewStore()
	store.SetParam(gomlx.ParamInitialSeed, seed)
	b, err := vit.Export(backend, net, store, model.Metadata{Name: "vitseg-bench-" + name, Version: "random"})
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", name, err)
	}
	return b, nil
}

func scale(xs []float64, f float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * f
	}
	return out
}
