// Package doctor reports whether `--device cuda` can run on this machine, and why not: ONNX Runtime's
// execution providers, the CUDA provider files, the NVIDIA libraries, the driver and the GPUs, and GoMLX's own
// startup check for training on CUDA.
package doctor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/gomlx/compute"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/host/cuda"
	"github.com/vitseg/vitseg/model/inference"
)

// ErrCUDAWouldFail is Run's verdict when --device cuda would fail.
var ErrCUDAWouldFail = errors.New("--device cuda would fail")

// Run writes the report on runtime to out and returns ErrCUDAWouldFail when --device cuda would fail (the
// report's verdict says why).
func Run(out io.Writer, runtime *inference.Runtime, log *zap.Logger) error {
	w := &reportWriter{w: out}
	w.line("ONNX Runtime %s: %s", runtime.Version(), runtime.Library())
	w.line("\nexecution providers (a one-node session on each):")
	_, cpuErr := runtime.CheckDevice(inference.DeviceCPU, log)
	w.status("  "+inference.ProviderCPU, "loads", cpuErr)
	_, cudaErr := runtime.CheckDevice(inference.DeviceCUDA, log)
	w.status("  "+inference.ProviderCUDA, "loads", cudaErr)

	dir := filepath.Dir(runtime.Library())
	report := cuda.Probe(dir)
	runtime.RestoreSignals(log)
	writeCUDAReport(w, report)

	backends := compute.List()
	slices.Sort(backends)
	w.line("\nGoMLX backends: %v (training: onnx:cpu, or onnx:cuda for --device cuda)", backends)
	w.line("  onnx:cuda startup check (nvcc on PATH, or libcudart.so* and libcudnn.so* in GoMLX's fixed directories): %s",
		gomlxCUDACheck())
	if w.err != nil {
		return w.err
	}
	verdict := cudaErr
	if verdict == nil {
		verdict = report.Err()
	}
	if verdict != nil {
		w.line("\nverdict: --device cuda would fail: %v", verdict)
		if w.err != nil {
			return w.err
		}
		return ErrCUDAWouldFail
	}
	w.line("\nverdict: --device cuda runs on ONNX Runtime's CUDA provider")
	return w.err
}

func writeCUDAReport(w *reportWriter, r cuda.Report) {
	w.line("\nCUDA provider files (next to the ONNX Runtime library; %s installs them):", cuda.SetupCommand)
	for _, f := range r.Provider {
		w.status("  "+filepath.Base(f.Path), f.Path, f.Err)
	}
	w.line("\nNVIDIA libraries (loader path; LD_LIBRARY_PATH=%q):", os.Getenv("LD_LIBRARY_PATH"))
	for _, l := range r.Libraries {
		found := l.Path
		if l.Version > 0 && l.Soname == "libcudart.so.13" {
			found += " (CUDA " + cuda.FormatVersion(l.Version) + ")"
		} else if l.Version > 0 {
			found += fmt.Sprintf(" (version %d)", l.Version)
		}
		w.status(fmt.Sprintf("  %s [%s]", l.Soname, l.Role), found, l.Err)
	}
	driver := "none"
	if r.DriverVersion > 0 {
		driver = "supports CUDA " + cuda.FormatVersion(r.DriverVersion)
	}
	runtime := "none"
	if r.RuntimeVersion > 0 {
		runtime = cuda.FormatVersion(r.RuntimeVersion)
	}
	w.line("\nCUDA runtime %s, driver %s; the provider needs CUDA %s", runtime, driver,
		cuda.FormatVersion(cuda.MinCUDAVersion))
	if r.DeviceErr != nil {
		w.line("GPUs: none: %v", r.DeviceErr)
	} else {
		w.line("GPUs: %d", r.DeviceCount)
	}
	for _, g := range r.GPUs {
		w.line("  GPU %d: %s, %.1f GiB", g.Index, g.Name, float64(g.MemoryBytes)/(1<<30))
	}
}

// gomlxCUDACheck mirrors the startup check of GoMLX's onnx:cuda backend (compute-onnx checkCUDAAndCUDNN).
func gomlxCUDACheck() string {
	dirs := []string{"/usr/lib/x86_64-linux-gnu", "/usr/local/cuda/lib64", "/usr/local/lib", "/usr/lib"}
	has := func(lib string) bool {
		for _, d := range dirs {
			if m, _ := filepath.Glob(filepath.Join(d, lib+"*")); len(m) > 0 {
				return true
			}
		}
		return false
	}
	_, nvccErr := exec.LookPath("nvcc")
	switch {
	case nvccErr != nil && !has("libcudart.so"):
		return "fails: no nvcc on PATH and no libcudart.so* in " + fmt.Sprint(dirs)
	case !has("libcudnn.so"):
		return "fails: no libcudnn.so* in " + fmt.Sprint(dirs)
	}
	return "passes"
}

// reportWriter writes doctor's lines, keeping the first write error.
type reportWriter struct {
	w   io.Writer
	err error
}

func (r *reportWriter) line(format string, args ...any) {
	if r.err == nil {
		_, r.err = fmt.Fprintf(r.w, format+"\n", args...)
	}
}

func (r *reportWriter) status(what, ok string, err error) {
	if err != nil {
		r.line("%s: NO: %v", what, err)
		return
	}
	r.line("%s: %s", what, ok)
}
