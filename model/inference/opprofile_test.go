package inference_test

import (
	"path/filepath"
	"testing"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
)

// TestOpProfile profiles real runs of the tiny model and checks that the trace accounts for its operators.
func TestOpProfile(t *testing.T) {
	rt := modeltest.Runtime(t)
	dir := t.TempDir()
	sess, err := rt.Load(modeltest.Export(t, model.PresetTiny, "v1", 1), inference.Options{Device: inference.DeviceCPU,
		IntraOpThreads: 1, ProfilePrefix: filepath.Join(dir, "ort")})
	if err != nil {
		t.Fatal(err)
	}
	const runs = 3
	for range runs {
		if _, err := sess.Run(t.Context(), make([]float32, sess.ImageLen()), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	traces, err := filepath.Glob(filepath.Join(dir, "ort_*.json"))
	if err != nil || len(traces) != 1 {
		t.Fatalf("traces %v (%v), want one", traces, err)
	}
	ops, err := inference.OpProfile(traces[0])
	if err != nil {
		t.Fatal(err)
	}
	var share float64
	seen := map[string]bool{}
	for i, op := range ops {
		share += op.Share
		seen[op.OpType] = true
		if op.Nodes <= 0 || op.PerRun < 0 || (i > 0 && op.PerRun > ops[i-1].PerRun) {
			t.Errorf("op %d %+v: want nodes > 0, sorted by time", i, op)
		}
	}
	if share < 0.999 || share > 1.001 {
		t.Errorf("shares sum to %v, want 1", share)
	}
	for _, op := range []string{"MatMul", "LayerNormalization", "Softmax"} {
		if !seen[op] {
			t.Errorf("no %s in the profile %v", op, ops)
		}
	}
	if _, err := inference.OpProfile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("OpProfile of a missing file: no error")
	}
}
