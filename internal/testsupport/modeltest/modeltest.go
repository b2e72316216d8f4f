// Package modeltest gives tests a real ONNX Runtime and freshly exported models. It loads the library that
// scripts/setup.sh installs (or VITSEG_ORT_LIB) and fails the test, never skips it, when it is missing.
package modeltest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute-onnx" // GoMLX's ONNX Runtime backend, to export models.
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/internal/testsupport/sampledata"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/vit"
)

// Runtime opens ONNX Runtime for the test process.
func Runtime(tb testing.TB) *inference.Runtime {
	tb.Helper()
	lib, err := inference.ResolveLibrary("")
	if err != nil {
		tb.Fatal(err)
	}
	rt, err := inference.Open(lib)
	if err != nil {
		tb.Fatal(err)
	}
	return rt
}

// Backend returns GoMLX's ONNX Runtime CPU backend (after opening the runtime), finalized when the test ends.
func Backend(tb testing.TB) compute.Backend {
	tb.Helper()
	Runtime(tb)
	b, err := compute.NewWithConfig("onnx:cpu")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Finalize)
	return b
}

// Export returns a randomly initialised model of a preset, exported with the given metadata version.
func Export(tb testing.TB, preset, version string, seed int64) []byte {
	tb.Helper()
	cfg, err := model.Preset(preset)
	if err != nil {
		tb.Fatal(err)
	}
	return ExportConfig(tb, cfg, version, seed)
}

// ExportConfig returns a randomly initialised model of cfg, exported with the given metadata version.
func ExportConfig(tb testing.TB, cfg model.Config, version string, seed int64) []byte {
	tb.Helper()
	net, err := vit.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	store := gomlx.NewStore()
	store.SetParam(gomlx.ParamInitialSeed, seed)
	b, err := vit.Export(Backend(tb), net, store, model.Metadata{Name: "vitseg-test", Version: version})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// WriteFile writes b to a file in a fresh temporary directory and returns its path.
func WriteFile(tb testing.TB, b []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "model.onnx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// DatasetDir is the Oxford-IIIT Pet sample (see package sampledata).
func DatasetDir(tb testing.TB) string { return sampledata.Dir(tb) }
