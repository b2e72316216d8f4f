package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vitseg/vitseg/internal/testsupport/cudastandin"
	"github.com/vitseg/vitseg/model/inference"
)

// The tests of this file run the real ONNX Runtime CUDA provider (scripts/setup.sh cuda installs it) against
// STAND-INS for NVIDIA's libraries (package cudastandin: gcc-built, every call reports "no CUDA device", and the
// stand-in libcudart takes over SIGTERM and SIGINT). They test vitseg's wiring of --device and doctor on a
// machine without a GPU; CUDA itself is checked by scripts/gpu-check.sh on a GPU machine.

var standins struct {
	once sync.Once
	dir  string // the stand-in libraries
	ort  string // the ONNX Runtime library the provider sits next to
	err  error
}

// cudaStandIns builds the stand-ins once per run and returns their directory and the ONNX Runtime library.
func cudaStandIns(t *testing.T) (dir, ortLib string) {
	t.Helper()
	standins.once.Do(func() {
		lib, err := inference.ResolveLibrary("")
		if err != nil {
			standins.err = err
			return
		}
		provider := filepath.Join(filepath.Dir(lib), "libonnxruntime_providers_cuda.so")
		if _, err := os.Stat(provider); err != nil {
			standins.err = errors.New("the CUDA provider is not installed next to " + lib + ": run scripts/setup.sh cuda")
			return
		}
		standins.ort = lib
		out := filepath.Join(env.tmp, "cuda-standins")
		if standins.err = os.MkdirAll(out, 0o755); standins.err == nil {
			standins.dir, standins.err = cudastandin.Build(out, provider)
		}
	})
	if standins.err != nil {
		t.Fatal(standins.err)
	}
	return standins.dir, standins.ort
}

// runVitseg runs the binary to completion with extra environment variables and returns stdout, stderr and the
// exit status.
func runVitseg(t *testing.T, extraEnv []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(env.bin, args...)
	cmd.Env = childEnv(extraEnv...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("vitseg %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// TestCUDAStandInDevices: --device cuda loads the real provider through ONNX Runtime's bridge and fails at
// device enumeration with a clear "no CUDA device"; the other missing pieces are named too; --device auto falls
// back to the CPU with that reason logged and segments on the CPU in the same process.
func TestCUDAStandInDevices(t *testing.T) {
	dir, ortLib := cudaStandIns(t)
	lonely := t.TempDir() // an ONNX Runtime library without the provider files beside it
	if err := os.Symlink(ortLib, filepath.Join(lonely, "libonnxruntime.so.1")); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(datasetDir(t), "images", "Abyssinian_1.jpg")
	model := tinyModel(t, 1)
	tests := []struct {
		name, device string
		env          []string
		wantCode     int
		wantStderr   []string // all of them
		wantMask     bool
	}{
		{"cuda, stand-ins: no device", "cuda", []string{"LD_LIBRARY_PATH=" + dir}, 1, []string{
			"CUDA execution provider unavailable: no CUDA device: cudaGetDeviceCount: cudaErrorNoDevice",
			"CUDA failure 100: no CUDA-capable device is detected (vitseg stand-in libcudart)", // from the provider
		}, false},
		{"cuda, no CUDA libraries", "cuda", []string{"LD_LIBRARY_PATH="}, 1, []string{
			"CUDA library not found: libcudart.so.13 (CUDA runtime 13) is not on the loader path (LD_LIBRARY_PATH=\"\")",
			"libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file",
		}, false},
		{"cuda, provider files missing", "cuda", []string{"LD_LIBRARY_PATH=" + dir,
			"VITSEG_ORT_LIB=" + filepath.Join(lonely, "libonnxruntime.so.1")}, 1, []string{
			"ONNX Runtime CUDA provider files missing: libonnxruntime_providers_shared.so is not next to the ONNX " +
				"Runtime library (run scripts/setup.sh cuda",
		}, false},
		{"auto, stand-ins: CPU fallback", "auto", []string{"LD_LIBRARY_PATH=" + dir}, 0, []string{
			"CUDA unavailable, running on the CPU",
			"no CUDA device: cudaGetDeviceCount: cudaErrorNoDevice",
			`"provider": "CPUExecutionProvider"`,
		}, true},
		{"cpu, stand-ins: the provider is never loaded", "cpu", []string{"LD_LIBRARY_PATH=" + dir}, 0, []string{
			`"provider": "CPUExecutionProvider"`,
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			_, stderr, code := runVitseg(t, tc.env, "segment", "--model", model, "--device", tc.device, "-o", out, photo)
			if code != tc.wantCode {
				t.Fatalf("exit status %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if tc.device == "cpu" && strings.Contains(stderr, "CUDA") {
				t.Errorf("--device cpu mentions CUDA:\n%s", stderr)
			}
			_, err := os.Stat(filepath.Join(out, "Abyssinian_1.mask.png"))
			if got := err == nil; got != tc.wantMask {
				t.Errorf("mask written: %v, want %v", got, tc.wantMask)
			}
		})
	}
}

// TestCUDAStandInDoctor: `vitseg doctor` reports the provider files, every stand-in library where the loader
// found it, no GPU, and exits with status 1 because --device cuda would fail.
func TestCUDAStandInDoctor(t *testing.T) {
	dir, ortLib := cudaStandIns(t)
	stdout, stderr, code := runVitseg(t, []string{"LD_LIBRARY_PATH=" + dir}, "doctor")
	if code != 1 {
		t.Fatalf("doctor exit status %d, want 1; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := []string{
		"ONNX Runtime 1.29.0: " + ortLib,
		"CPUExecutionProvider: loads",
		"CUDAExecutionProvider: NO: CUDA execution provider unavailable: no CUDA device",
		"libonnxruntime_providers_cuda.so: " + filepath.Join(filepath.Dir(ortLib), "libonnxruntime_providers_cuda.so"),
		"libcudart.so.13 [CUDA runtime 13]: " + filepath.Join(dir, "libcudart.so.13") + " (CUDA 13.0)",
		"libcudnn.so.9 [cuDNN 9]: " + filepath.Join(dir, "libcudnn.so.9"),
		"libcuda.so.1 [NVIDIA driver]: " + filepath.Join(dir, "libcuda.so.1"),
		"CUDA runtime 13.0, driver supports CUDA 13.0; the provider needs CUDA 13.0",
		"GPUs: none: no CUDA device: cudaGetDeviceCount: cudaErrorNoDevice",
		"verdict: --device cuda would fail: CUDA execution provider unavailable: no CUDA device",
	}
	for _, w := range want {
		if !strings.Contains(stdout, w) {
			t.Errorf("doctor output lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("doctor output:\n%s", stdout)
	}
	stdout, _, code = runVitseg(t, []string{"LD_LIBRARY_PATH="}, "doctor")
	if code != 1 || !strings.Contains(stdout, "libcudart.so.13 [CUDA runtime 13]: NO: libcudart.so.13: cannot open shared object file") {
		t.Errorf("doctor without CUDA libraries: exit status %d, output:\n%s", code, stdout)
	}
}

// TestCUDAStandInSignals: after the CUDA provider has loaded (and the stand-in libcudart has taken over SIGTERM
// and SIGINT), SIGTERM still drains the pipeline and commits what it finished, and SIGINT still stops it.
func TestCUDAStandInSignals(t *testing.T) {
	dir, _ := cudaStandIns(t)
	s := startStack(t, stackConfig{})
	l := s.newLedger(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			srv := s.startServe(t, serveConfig{name: "serve-" + strings.ToLower(sig.String()), model: tinyModel(t, 1),
				args: []string{"--device", "auto"}, env: []string{"LD_LIBRARY_PATH=" + dir}})
			if len(srv.logLines("CUDA unavailable, running on the CPU")) != 1 {
				t.Fatal("the CUDA provider was not tried (no fallback log line)")
			}
			if len(srv.logLines("restored Go's signal handlers that native code had replaced")) == 0 {
				t.Error("no log line for the restored signal handlers")
			}
			keys := s.uploadPhotos(t, samplePhotos(t), names("cuda-"+sig.String()+"-", 24)...)
			l.waitResults(t, keys[:1], 1, 60*time.Second)
			if err := srv.signal(sig, 30*time.Second); err != nil {
				t.Fatalf("serve after %v: %v; log:\n%s", sig, err, tail(srv.logs(), 8<<10))
			}
			if strings.Contains(srv.logs(), cudastandin.Marker+" libcudart: swallowed a signal") {
				t.Errorf("the stand-in's handler got %v, not Go", sig)
			}
			if n := l.auditCommits(t); n == 0 {
				t.Error("nothing was committed before the shutdown")
			}
		})
	}
}
