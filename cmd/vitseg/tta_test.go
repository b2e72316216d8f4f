package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vitseg/vitseg/internal/ops/segment"
)

// TestSegmentTTA: --tta flip reaches the session (its load is logged with it) and segments; an unknown value is
// an error that names the flag.
func TestSegmentTTA(t *testing.T) {
	dir := t.TempDir()
	modelPath := filepath.Join(dir, "tiny.onnx")
	if _, _, err := runCLI(t, "model", "init", "--preset", "tiny", "-o", modelPath); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(datasetDir(t), "images", "Abyssinian_1.jpg")
	out, stderr, err := runCLI(t, "segment", "--model", modelPath, "--device", "cpu", "--tta", "flip", "-o", dir, photo)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, `"tta": "flip"`) {
		t.Errorf("the model load does not log the flip augmentation:\n%s", stderr)
	}
	var line segment.Line
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil || line.Error != "" || line.Mask == "" {
		t.Errorf("segment --tta flip: %q (%v)", out, err)
	}
	if _, _, err := runCLI(t, "segment", "--model", modelPath, "--tta", "rotate", "-o", dir, photo); err == nil ||
		!strings.Contains(err.Error(), "--tta") {
		t.Errorf("--tta rotate: err = %v, want an error naming --tta", err)
	}
}
