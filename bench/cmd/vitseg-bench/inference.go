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
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/vit"
)

func runInference(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inference", flag.ContinueOnError)
	fs.SetOutput(stderr)
	presets := fs.String("presets", "small,article", "model presets (random weights)")
	batches := fs.String("batches", "1,8,32", "batch sizes")
	rounds := fs.Int("rounds", 3, "interleaved rounds over all cases")
	minTime := fs.Duration("min-time", time.Second, "measured time per case and slice (at least one call)")
	matmulN := fs.Int("matmul", 2048, "side of the square float32 MatMul that gives the ceiling")
	threads := fs.Int("threads", runtime.NumCPU(), "ONNX Runtime intra-op threads, for the models and the MatMul")
	noSpin := fs.Bool("nospin-matmul", true, "also measure the MatMul with ONNX Runtime's thread spinning off")
	seed := fs.Int64("seed", 1, "seed of the random weights and inputs")
	ortLib := fs.String("ort-lib", "", "ONNX Runtime library (default: $VITSEG_ORT_LIB, then the cache)")
	out := fs.String("out", "", "directory to save the report as inference.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	names := splitList(*presets)
	sizes, err := splitInts(*batches)
	if err != nil {
		return fmt.Errorf("-batches: %w", err)
	}
	rep := bench.NewReport("inference", "vitseg-bench inference "+strings.Join(args, " "))

	lib, err := inference.ResolveLibrary(*ortLib)
	if err != nil {
		return err
	}
	rt, err := inference.Open(lib)
	if err != nil {
		return err
	}
	rep.Notef("ONNX Runtime %s (CPU provider), %d intra-op threads for models and MatMul; random weights; "+
		"images/s counts Session.Run only (no decode or post-processing)", rt.Version(), *threads)

	type loaded struct {
		name string
		cfg  model.Config
		sess *inference.Session
	}
	var models []loaded
	defer func() {
		for _, m := range models {
			m.sess.Close() //nolint:errcheck
		}
	}()
	for _, name := range names {
		cfg, err := model.Preset(name)
		if err != nil {
			return err
		}
		start := time.Now()
		b, err := exportRandom(cfg, name, *seed)
		if err != nil {
			return err
		}
		sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU, IntraOpThreads: *threads})
		if err != nil {
			return err
		}
		models = append(models, loaded{name, cfg, sess})
		fmt.Fprintf(stderr, "exported and loaded %s (%d parameters, %.2f GFLOP/image, %.1f MB) in %s\n", name,
			cfg.NumParams(), cfg.FLOPsPerImage()/1e9, float64(len(b))/1e6, time.Since(start).Round(time.Millisecond))
	}

	mm, err := bench.NewMatMul(*matmulN, *matmulN, *matmulN, bench.MatMulOptions{IntraOpThreads: *threads}, uint64(*seed))
	if err != nil {
		return err
	}
	defer mm.Close()
	matmulName := fmt.Sprintf("MatMul %dx%dx%d", *matmulN, *matmulN, *matmulN)
	cases := []bench.Case{{Name: matmulName, Units: mm.FLOPs(), Call: bench.Timed(mm.Run)}}
	if *noSpin {
		quiet, err := bench.NewMatMul(*matmulN, *matmulN, *matmulN,
			bench.MatMulOptions{IntraOpThreads: *threads, NoSpinning: true}, uint64(*seed))
		if err != nil {
			return err
		}
		defer quiet.Close()
		cases = append(cases, bench.Case{Name: matmulName + " no-spin", Units: quiet.FLOPs(), Call: bench.Timed(quiet.Run)})
	}
	first := len(cases) // the model cases follow the MatMuls
	type modelCase struct {
		m     loaded
		batch int
	}
	var mcases []modelCase
	r := rand.New(rand.NewPCG(uint64(*seed), 2))
	for _, m := range models {
		for _, batch := range sizes {
			images := make([]float32, batch*m.sess.ImageLen())
			for i := range images {
				images[i] = r.Float32()
			}
			sess := m.sess
			cases = append(cases, bench.Case{Name: fmt.Sprintf("%s b%d", m.name, batch), Units: float64(batch),
				Call: bench.Timed(func(ctx context.Context) error {
					_, err := sess.Run(ctx, images, batch)
					return err
				})})
			mcases = append(mcases, modelCase{m, batch})
		}
	}
	// The MatMul brackets every other case: each ratio compares measurements a few seconds apart.
	series, err := bench.Interleave(ctx, bench.Plan{Rounds: *rounds, MinTime: *minTime, MinCalls: 1, Warmup: 1,
		Bracket: true, Log: stderr}, cases...)
	if err != nil {
		return err
	}

	rep.AddRounds(matmulName+" (ceiling)", scale(series[0].Rates, 1e-9), "GFLOP/s",
		"ONNX Runtime, float32, same session options as the models; every slice")
	if *noSpin {
		rep.AddRounds(series[1].Name, scale(series[1].Rates, 1e-9), "GFLOP/s", "session.intra_op.allow_spinning=0")
		rep.AddRounds("no-spin / spinning MatMul", series[1].RefRatios(), "ratio", "bracketed by the spinning MatMul")
	}
	for i, mc := range mcases {
		s := series[first+i]
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
	return finish(rep, stdout, *out)
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
