// Command vitseg-bench measures vitseg's speed against baselines measured side by side, in the same run, in
// alternating rounds: the machine is shared, so absolute numbers drift and only same-run ratios are compared.
//
// Usage:
//
//	vitseg-bench inference [flags]   model images/s and GFLOP/s at several batch sizes vs an ONNX Runtime MatMul
//	vitseg-bench train [flags]       GoMLX (onnx:cpu) training steps vs the PyTorch reference (bench/reference)
//	vitseg-bench summary DIR         print the reports saved with -out DIR as tables
//
// The end-to-end pipeline benchmark needs the test harness's real MinIO and broker processes and is
// BenchmarkPipelineVsModel in package pipeline; scripts/bench.sh runs all three. Build with -tags onnx.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/model/inference"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "vitseg-bench:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: vitseg-bench inference|train [flags]
       vitseg-bench summary DIR
Run "vitseg-bench inference -h" or "vitseg-bench train -h" for the flags.`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "inference":
		return runInference(ctx, args[1:], stdout, stderr)
	case "train":
		return runTrain(ctx, args[1:], stdout, stderr)
	case "summary":
		if len(args) != 2 {
			fmt.Fprintln(stderr, usage)
			return flag.ErrHelp
		}
		return runSummary(args[1], stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func runSummary(dir string, stdout io.Writer) error {
	reports, err := bench.LoadReports(dir)
	for _, r := range reports {
		if werr := r.WriteTable(stdout); werr != nil {
			return werr
		}
		fmt.Fprintln(stdout)
	}
	return err
}

// finish prints the report and saves it when dir is set.
func finish(rep *bench.Report, stdout io.Writer, dir string) error {
	rep.Finish()
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if dir == "" {
		return nil
	}
	return rep.Save(dir)
}

// openRuntime opens the ONNX Runtime library lib, or the default one when lib is empty.
func openRuntime(lib string) (*inference.Runtime, error) {
	path, err := inference.ResolveLibrary(lib)
	if err != nil {
		return nil, err
	}
	return inference.Open(path)
}

func splitInts(s string) ([]int, error) {
	var out []int
	for _, p := range envflag.List(s) {
		v, err := strconv.Atoi(p)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", p)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

// perPreset parses "small=3,article=1" into a map; a bare number applies to every preset.
func perPreset(s string) (map[string]int, int, error) {
	out := map[string]int{}
	def := 0
	for _, p := range envflag.List(s) {
		name, val, ok := strings.Cut(p, "=")
		if !ok {
			name, val = "", p
		}
		v, err := strconv.Atoi(val)
		if err != nil || v <= 0 {
			return nil, 0, fmt.Errorf("%q: want a positive count", p)
		}
		if name == "" {
			def = v
			continue
		}
		out[name] = v
	}
	return out, def, nil
}
