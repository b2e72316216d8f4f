// Package cuda finds what ONNX Runtime's CUDA execution provider needs on this host: the provider's own files
// next to the ONNX Runtime library, NVIDIA's CUDA 13, cuBLAS, cuRAND, cuDNN 9 and driver libraries on the loader
// path, a driver new enough for the CUDA runtime, and the GPUs it sees. It explains why --device cuda cannot
// work (Report.Err names the missing piece) for `vitseg doctor` and the startup errors of every command, and it
// preloads the CUDA runtime for GoMLX's onnx:cuda backend.
//
// Probing loads NVIDIA's libraries, which may replace the process's SIGTERM and SIGINT handlers: restore them
// afterwards (package sigguard).
package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Why --device cuda cannot work; Report.Err wraps one of them.
var (
	ErrProviderMissing = errors.New("ONNX Runtime CUDA provider files missing")
	ErrLibraryMissing  = errors.New("CUDA library not found")
	ErrNoDevice        = errors.New("no CUDA device")
	ErrDriverTooOld    = errors.New("NVIDIA driver too old")
)

// ProviderFiles are the libraries ONNX Runtime's core loads from its own directory for the CUDA provider.
func ProviderFiles() []string {
	return []string{"libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"}
}

// Requirement is a library the pinned CUDA provider needs from the host.
type Requirement struct {
	Soname string
	Role   string
}

// Requirements are the provider's NEEDED libraries (CUDA 13) and cuDNN 9, which it loads at run time.
func Requirements() []Requirement {
	return []Requirement{
		{"libcudart.so.13", "CUDA runtime 13"},
		{"libcublas.so.13", "cuBLAS 13"},
		{"libcublasLt.so.13", "cuBLASLt 13"},
		{"libcurand.so.10", "cuRAND (CUDA 13)"},
		{"libcuda.so.1", "NVIDIA driver"},
		{"libcudnn.so.9", "cuDNN 9"},
	}
}

// MinCUDAVersion is the CUDA version (major*1000 + minor*10) the pinned provider is built for; the driver must
// support at least this version (NVIDIA driver 580 or newer).
const MinCUDAVersion = 13000

// SetupCommand installs the provider files.
const SetupCommand = "scripts/setup.sh cuda"

// File is one provider file and whether it is there.
type File struct {
	Path string
	Err  error
}

// Library is one required library and where the loader found it.
type Library struct {
	Requirement
	Path    string // as the loader resolved it; empty when not found
	Version int    // the library's own version where it reports one (CUDA runtime, cuDNN), else 0
	Err     error
}

// GPU is one device the driver reports.
type GPU struct {
	Index       int
	Name        string
	MemoryBytes uint64
}

// Report is what Probe found.
type Report struct {
	ProviderDir    string
	Provider       []File
	Libraries      []Library
	RuntimeVersion int // CUDA runtime version, 13000 = 13.0; 0 when unknown
	DriverVersion  int // the newest CUDA version the driver supports; 0 when no driver
	DeviceCount    int
	DeviceErr      error // why the CUDA runtime reports no usable device
	GPUs           []GPU
}

// Probe inspects providerDir (the directory of the ONNX Runtime library) and the loader path.
func Probe(providerDir string) Report {
	r := Report{ProviderDir: providerDir, Provider: providerFiles(providerDir)}
	for _, req := range Requirements() {
		r.Libraries = append(r.Libraries, findLibrary(req))
	}
	probeDevices(&r)
	return r
}

func providerFiles(dir string) []File {
	var files []File
	for _, name := range ProviderFiles() {
		p := filepath.Join(dir, name)
		_, err := os.Stat(p)
		files = append(files, File{Path: p, Err: err})
	}
	return files
}

// CheckProvider reports whether the provider files are in dir (cheap: it loads nothing).
func CheckProvider(dir string) error {
	for _, f := range providerFiles(dir) {
		if f.Err != nil {
			return fmt.Errorf("%w: %s is not next to the ONNX Runtime library (run %s to install the pinned "+
				"provider into %s)", ErrProviderMissing, filepath.Base(f.Path), SetupCommand, dir)
		}
	}
	return nil
}

// Err is nil when the CUDA provider can run here; otherwise it names the first missing piece and what to do.
func (r Report) Err() error {
	if err := CheckProvider(r.ProviderDir); err != nil {
		return err
	}
	for _, l := range r.Libraries {
		if l.Err != nil {
			return fmt.Errorf("%w: %s (%s) is not on the loader path (LD_LIBRARY_PATH=%q): install CUDA 13 and "+
				"cuDNN 9, or add their lib directories to LD_LIBRARY_PATH", ErrLibraryMissing, l.Soname, l.Role,
				os.Getenv("LD_LIBRARY_PATH"))
		}
	}
	if r.DriverVersion > 0 && r.DriverVersion < MinCUDAVersion {
		return fmt.Errorf("%w: it supports CUDA %s, the CUDA provider needs %s (NVIDIA driver 580 or newer)",
			ErrDriverTooOld, FormatVersion(r.DriverVersion), FormatVersion(MinCUDAVersion))
	}
	if r.DeviceErr != nil {
		return r.DeviceErr
	}
	if r.DeviceCount == 0 {
		return fmt.Errorf("%w: the CUDA runtime sees no GPU", ErrNoDevice)
	}
	return nil
}

// FormatVersion prints a CUDA version number (13000) as 13.0.
func FormatVersion(v int) string { return fmt.Sprintf("%d.%d", v/1000, v%1000/10) }

// cudaError explains a cudaError_t returned by cudaGetDeviceCount.
func cudaError(code int) error {
	switch code {
	case 100:
		return fmt.Errorf("%w: cudaGetDeviceCount: cudaErrorNoDevice (no CUDA-capable device is detected)", ErrNoDevice)
	case 35:
		return fmt.Errorf("%w: cudaGetDeviceCount: cudaErrorInsufficientDriver (the driver is older than the CUDA "+
			"runtime; NVIDIA driver 580 or newer for CUDA 13)", ErrDriverTooOld)
	case 34:
		return fmt.Errorf("%w: cudaGetDeviceCount: cudaErrorStubLibrary (libcuda.so.1 is the toolkit's stub, not "+
			"the driver)", ErrNoDevice)
	}
	return fmt.Errorf("%w: cudaGetDeviceCount: cudaError %d", ErrNoDevice, code)
}
