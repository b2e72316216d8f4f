package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallDataset links the first n trainval pairs of the shared dataset into a temporary directory in the
// Oxford-IIIT Pet layout.
func smallDataset(t *testing.T, n int) string {
	t.Helper()
	src := datasetDir(t)
	dst := t.TempDir()
	for _, d := range []string{"images", filepath.Join("annotations", "trimaps")} {
		if err := os.MkdirAll(filepath.Join(dst, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	list, err := os.ReadFile(filepath.Join(src, "annotations", "trainval.txt"))
	if err != nil {
		t.Fatal(err)
	}
	linked := 0
	for line := range strings.Lines(string(list)) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || linked == n {
			continue
		}
		img := filepath.Join(src, "images", f[0]+".jpg")
		tri := filepath.Join(src, "annotations", "trimaps", f[0]+".png")
		if _, err := os.Stat(img); err != nil {
			continue
		}
		if err := os.Symlink(img, filepath.Join(dst, "images", f[0]+".jpg")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(tri, filepath.Join(dst, "annotations", "trimaps", f[0]+".png")); err != nil {
			t.Fatal(err)
		}
		linked++
	}
	if linked < n {
		t.Fatalf("only %d pairs in the dataset, want %d", linked, n)
	}
	return dst
}

// progress is the training checkpoint's progress.json.
type progress struct {
	Epoch int `json:"epoch"`
	Step  int `json:"step"`
}

func readProgress(dir string) (progress, bool) {
	var p progress
	b, err := os.ReadFile(filepath.Join(dir, "progress.json"))
	return p, err == nil && json.Unmarshal(b, &p) == nil
}

// waitCheckpoint polls the checkpoint's progress every 10 ms until it records epoch completed epochs (an epoch
// of the test's dataset takes about a second: the signals that follow must land inside the next one).
func waitCheckpoint(t *testing.T, dir string, epoch int) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		if p, ok := readProgress(dir); ok && p.Epoch >= epoch {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of epoch %d after 120s", epoch)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTrainingResumesAfterKill: `vitseg train` is stopped with SIGTERM in the middle of epoch 2 and with
// SIGKILL in the middle of epoch 3; each rerun logs "resuming from checkpoint" and continues where the
// checkpoint left off, and the final metrics.json holds the history of exactly the 3 epochs.
func TestTrainingResumesAfterKill(t *testing.T) {
	data := smallDataset(t, 240)
	out := t.TempDir()
	ckpt := filepath.Join(out, "checkpoint")
	train := &proc{t: t, name: "train", env: childEnv(), logPath: filepath.Join(t.TempDir(), "train.log"),
		args: []string{"train", "--preset", "tiny", "--epochs", "3", "--batch-size", "2", "--data", data, "--out", out,
			"--device", "cpu", "--log-format", "json", "--report-examples", "2"}}
	t.Cleanup(func() {
		_ = train.signal(syscall.SIGKILL, 10*time.Second)
		if t.Failed() {
			t.Logf("train log:\n%s", tail(train.logs(), 16<<10))
		}
	})

	// Run 1: SIGTERM a moment after the checkpoint of epoch 1, in the middle of epoch 2.
	train.start()
	waitCheckpoint(t, ckpt, 1)
	time.Sleep(100 * time.Millisecond)
	err := train.signal(syscall.SIGTERM, 60*time.Second)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("train after SIGTERM: %v, want exit status 1", err)
	}
	stopped := train.logLines("training interrupted, checkpoint saved")
	if len(stopped) != 1 {
		t.Fatalf("%d 'training interrupted, checkpoint saved' lines after SIGTERM, want 1", len(stopped))
	}
	termEpoch, termStep := stopped[0]["epoch"], stopped[0]["step"]
	if termEpoch != 2.0 || termStep == 0.0 {
		t.Errorf("SIGTERM checkpoint at epoch %v step %v, want the middle of epoch 2", termEpoch, termStep)
	}

	// Run 2: resumes mid-epoch 2; SIGKILL a moment after the checkpoint of epoch 2.
	train.start()
	waitCheckpoint(t, ckpt, 2)
	time.Sleep(100 * time.Millisecond)
	if !train.running() {
		t.Fatal("run 2 finished before it could be killed mid-epoch 3")
	}
	train.kill()
	resumed := train.logLines("resuming from checkpoint")
	if len(resumed) != 1 || resumed[0]["completed_epochs"] != 1.0 || resumed[0]["completed_steps"] != termStep {
		t.Errorf("run 2 resumed with %v, want completed_epochs 1, completed_steps %v", resumed, termStep)
	}

	// Run 3: resumes after epoch 2 and finishes.
	train.start()
	if err := train.wait(300 * time.Second); err != nil {
		t.Fatalf("run 3: %v", err)
	}
	resumed = train.logLines("resuming from checkpoint")
	if len(resumed) != 2 || resumed[1]["completed_epochs"] != 2.0 {
		t.Errorf("run 3 resumed with %v, want completed_epochs 2", resumed[len(resumed)-1:])
	}
	var summary struct {
		History []struct {
			Epoch int `json:"epoch"`
		} `json:"history"`
	}
	b, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	var epochs []int
	for _, h := range summary.History {
		epochs = append(epochs, h.Epoch)
	}
	if fmt.Sprint(epochs) != "[1 2 3]" {
		t.Errorf("metrics.json history epochs %v, want [1 2 3]", epochs)
	}
	if _, err := os.Stat(filepath.Join(out, "model.onnx")); err != nil {
		t.Error(err)
	}
	t.Logf("FIGURES fault=train-kill sigterm_at_epoch=%v step=%v resumes=%d history_epochs=%v", termEpoch, termStep, len(resumed), epochs)
}
