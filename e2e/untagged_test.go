package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUntaggedBuild: a Go user's plain `go build ./cmd/vitseg` (no -tags onnx, as `go install` builds it) gives
// a binary that segments with the shipped model and runs doctor; the commands that export ONNX (GoMLX compiles
// its exporter only with the tag) fail at once with an error naming the tag, never a panic.
func TestUntaggedBuild(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "vitseg-untagged")
	build := exec.Command("go", "build", "-o", bin, "./cmd/vitseg")
	build.Dir = env.repoRoot
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/vitseg (no tags): %v\n%s", err, out)
	}
	dir := t.TempDir()
	shipped := filepath.Join(env.repoRoot, "model", "zoo", "small", "model.onnx")
	tests := []struct {
		args     []string
		wantCode int
		want     string // in the combined output
	}{
		{[]string{"segment", "--model", shipped, "--device", "cpu", "-o", dir,
			filepath.Join(datasetDir(t), "images", "Abyssinian_1.jpg")}, 0, "Abyssinian_1.mask.png"},
		{[]string{"doctor"}, 1, "CPUExecutionProvider: loads"},
		{[]string{"model", "init", "--preset", "tiny", "-o", filepath.Join(dir, "tiny.onnx")}, 1,
			"vitseg model init exports ONNX with GoMLX, which this binary was built without: build it with the onnx tag"},
		{[]string{"train", "--data", datasetDir(t), "--out", dir}, 1,
			"vitseg train exports ONNX with GoMLX, which this binary was built without"},
	}
	for _, tc := range tests {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = childEnv("LD_LIBRARY_PATH=")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.wantCode || !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "panic") {
			t.Errorf("untagged vitseg %s: exit status %d (want %d), output lacks %q or panics:\n%s",
				strings.Join(tc.args, " "), code, tc.wantCode, tc.want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "Abyssinian_1.mask.png")); err != nil {
		t.Fatalf("the untagged binary wrote no mask: %v", err)
	}
}
