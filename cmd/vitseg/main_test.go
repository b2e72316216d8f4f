package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vitseg/vitseg/internal/host/cuda"
	"github.com/vitseg/vitseg/internal/ops/segment"
	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func datasetDir(t *testing.T) string { return modeltest.DatasetDir(t) }

func TestUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantErr  bool
		wantCode int
		want     string
	}{
		{[]string{"help"}, false, 0, "Commands:"},
		{[]string{"nope"}, true, 2, "Commands:"},
		{[]string{"segment", "--help"}, true, 0, "VITSEG_MODEL"},
		{[]string{"serve", "--help"}, true, 0, "VITSEG_KAFKA_BROKERS"},
		{[]string{"segment"}, true, 2, ""},
		{[]string{"model", "summary", "--preset", "huge"}, true, 2, ""},
		{[]string{"model", "summary", "--preset", "segformer", "--stem", "conv"}, true, 2, "ViT options"},
		{[]string{"model", "summary", "--preset", "small", "--stem", "conv"}, false, 0, "conv_stem (4 x 3x3/2)"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, err := runCLI(t, tc.args...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && exitCode(err) != tc.wantCode {
				t.Errorf("exit code %d, want %d (%v)", exitCode(err), tc.wantCode, err)
			}
			if tc.want != "" && !strings.Contains(out+errOut+fmt.Sprint(err), tc.want) {
				t.Errorf("output and error lack %q:\n%s%s%v", tc.want, out, errOut, err)
			}
			if tc.wantCode == 0 && err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("err = %v, want flag.ErrHelp", err)
			}
		})
	}
}

func TestModelSummaryArticle(t *testing.T) {
	out, _, err := runCLI(t, "model", "summary", "--preset", "article")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"86,284,806", "(1, 3, 128, 128)", "(1, 64, 768)", "encoder_blocks (12 x 7,087,872)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// TestSegmentFiles runs `model init` and `segment` on real photos and bad files: masks for the good ones, a
// clear error line for each bad one, and the others are not stopped.
func TestSegmentFiles(t *testing.T) {
	dir := t.TempDir()
	modelPath := filepath.Join(dir, "tiny.onnx")
	if _, _, err := runCLI(t, "model", "init", "--preset", "tiny", "-o", modelPath); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "notes.jpg")
	if err := os.WriteFile(bad, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	imgs := filepath.Join(datasetDir(t), "images")
	files := []string{filepath.Join(imgs, "Abyssinian_1.jpg"), bad, filepath.Join(imgs, "Abyssinian_34.jpg"),
		filepath.Join(dir, "missing.jpg")}
	outDir := filepath.Join(dir, "out")
	out, _, err := runCLI(t, append([]string{"segment", "--model", modelPath, "--device", "auto", "--overlay",
		"-o", outDir, "--batch", "2"}, files...)...)
	if err == nil || !strings.Contains(err.Error(), "2 of 4") {
		t.Errorf("err = %v, want a summary of 2 failed files", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d output lines, want 4:\n%s", len(lines), out)
	}
	byFile := map[string]segment.Line{}
	for _, l := range lines {
		var sl segment.Line
		if err := json.Unmarshal([]byte(l), &sl); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		byFile[sl.File] = sl
	}
	if e := byFile[bad].Error; !strings.Contains(e, "unknown") && !strings.Contains(e, "format") {
		t.Errorf("bad file error = %q, want an unknown-format error", e)
	}
	if byFile[files[3]].Error == "" {
		t.Error("missing file has no error")
	}
	for _, f := range []string{files[0], files[2]} {
		sl := byFile[f]
		if sl.Error != "" {
			t.Fatalf("%s: %s", f, sl.Error)
		}
		mf, err := os.Open(sl.Mask)
		if err != nil {
			t.Fatal(err)
		}
		m, err := imaging.DecodeMaskPNG(mf)
		mf.Close()
		if err != nil {
			t.Fatal(err)
		}
		if m.Width != sl.Width || m.Height != sl.Height {
			t.Errorf("%s: mask %dx%d, image %dx%d", f, m.Width, m.Height, sl.Width, sl.Height)
		}
		sum := sl.ClassFractions["pet"] + sl.ClassFractions["background"] + sl.ClassFractions["border"]
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("%s: class fractions sum to %v", f, sum)
		}
		if _, err := os.Stat(sl.Overlay); err != nil {
			t.Errorf("%s: overlay: %v", f, err)
		}
	}
}

// TestSegmentRefusesCollidingOutputs: two inputs with the same base name would write the same NAME.mask.png.
func TestSegmentRefusesCollidingOutputs(t *testing.T) {
	dir := t.TempDir()
	_, _, err := runCLI(t, "segment", "--model", filepath.Join(dir, "none.onnx"), "-o", filepath.Join(dir, "out"),
		filepath.Join(dir, "a", "cat.jpg"), filepath.Join(dir, "b", "cat.png"))
	var usage usageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "cat.mask.png") {
		t.Fatalf("err = %v, want a usage error naming cat.mask.png", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output directory created before the refusal: %v", err)
	}
}

// TestDeviceSelection: on a machine without CUDA, auto falls back to CPU and cuda is a clear error.
func TestDeviceSelection(t *testing.T) {
	dir := t.TempDir()
	modelPath := filepath.Join(dir, "tiny.onnx")
	if _, _, err := runCLI(t, "model", "init", "--preset", "tiny", "-o", modelPath); err != nil {
		t.Fatal(err)
	}
	rt := modeltest.Runtime(t)
	sess, err := rt.LoadFile(modelPath, inference.Options{Device: inference.DeviceAuto})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if sess.Provider() != inference.ProviderCPU {
		t.Errorf("auto on a CPU-only build runs on %s, want %s", sess.Provider(), inference.ProviderCPU)
	}
	_, err = rt.LoadFile(modelPath, inference.Options{Device: inference.DeviceCUDA})
	if !errors.Is(err, inference.ErrCUDAUnavailable) {
		t.Fatalf("cuda on a CPU-only build: err = %v, want ErrCUDAUnavailable", err)
	}
	if !errors.Is(err, cuda.ErrLibraryMissing) || !strings.Contains(err.Error(), "libcudart.so.13") {
		t.Errorf("error does not name what is missing: %v", err)
	}
	_, stderr, err := runCLI(t, "segment", "--model", modelPath, "--device", "auto", "-o", dir,
		filepath.Join(datasetDir(t), "images", "Abyssinian_1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "CUDA unavailable, running on the CPU") {
		t.Errorf("auto fallback not logged:\n%s", stderr)
	}
}
