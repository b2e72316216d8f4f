package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/model/inference"
)

// opProfileRuns is how many batches a profiled session runs after one untimed warm-up run.
const opProfileRuns = 20

// profileOps loads each model again with ONNX Runtime's operator profiling on (inference.Options.ProfilePrefix),
// runs opProfileRuns batches of f.opProfileBatch images and adds every operator type's kernel time per run to rep.
func profileOps(ctx context.Context, rt *inference.Runtime, models loadedModels, f *inferenceFlags, rep *bench.Report) error {
	dir, err := os.MkdirTemp("", "vitseg-bench-ops-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, m := range models {
		name := m.name
		prefix := filepath.Join(dir, strings.ReplaceAll(name, "/", "-"))
		sess, err := rt.Load(m.onnx, inference.Options{Device: inference.DeviceCPU, IntraOpThreads: f.threads,
			ProfilePrefix: prefix})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		images := make([]float32, f.opProfileBatch*sess.ImageLen())
		for range opProfileRuns + 1 {
			if _, err := sess.Run(ctx, images, f.opProfileBatch); err != nil {
				sess.Close() //nolint:errcheck
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if err := sess.Close(); err != nil { // ONNX Runtime writes the trace now
			return err
		}
		traces, err := filepath.Glob(prefix + "_*.json")
		if err != nil || len(traces) != 1 {
			return fmt.Errorf("%s: profile traces %v: %v", name, traces, err)
		}
		ops, err := inference.OpProfile(traces[0])
		if err != nil {
			return err
		}
		for _, op := range ops {
			rep.Add(fmt.Sprintf("%s b%d op %s", name, f.opProfileBatch, op.OpType), float64(op.PerRun.Microseconds())/1000,
				"ms/run", fmt.Sprintf("%d nodes; %.1f%% of kernel time; %d runs profiled", op.Nodes, 100*op.Share,
					opProfileRuns+1))
		}
	}
	return nil
}
