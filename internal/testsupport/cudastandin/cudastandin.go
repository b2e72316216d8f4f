// Package cudastandin builds STAND-INS for NVIDIA's CUDA libraries, for tests on machines without a GPU. They are
// not NVIDIA's libraries and compute nothing: every call reports that there is no CUDA device.
//
// Build compiles, with gcc, one shared library per soname that ONNX Runtime's real CUDA execution provider
// (libonnxruntime_providers_cuda.so) links against, each exporting every symbol the provider imports from it
// under the provider's symbol version. With them on the loader path the real provider loads through ONNX
// Runtime's provider bridge and fails where a GPU-less host fails: at device enumeration ("CUDA failure 100: no
// CUDA-capable device is detected"). That tests the wiring of --device cuda|auto, `vitseg doctor` and the signal
// handling, never CUDA itself.
//
// Like the CUDA runtime under the provider, the stand-in libcudart installs its own SIGTERM and SIGINT handlers
// (without SA_ONSTACK, swallowing the signal) when it is loaded and again in cudaGetDeviceCount.
package cudastandin

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Marker is printed by the stand-in signal handler and appears in every stand-in error string.
const Marker = "vitseg stand-in"

// Sonames are the libraries Build makes: the provider's CUDA dependencies, and cuDNN, which it loads at run time.
var Sonames = []string{"libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcurand.so.10", "libcuda.so.1", "libcudnn.so.9"}

// probeSymbols are the functions that vitseg's own probe (internal/host/cuda) calls, beyond the provider's imports.
var probeSymbols = map[string][]string{
	"libcudart.so.13": {"cudaGetDeviceCount", "cudaRuntimeGetVersion", "cudaDriverGetVersion", "cudaGetErrorString"},
	"libcuda.so.1":    {"cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName", "cuDeviceTotalMem_v2"},
	"libcudnn.so.9":   {"cudnnGetVersion"},
	"libcurand.so.10": {"curandGetVersion"},
	"libcublas.so.13": {"cublasGetProperty"},
}

// Build writes the stand-in libraries into dir, exporting what the provider at providerPath imports, and returns
// dir. gcc must be on PATH.
func Build(dir, providerPath string) (string, error) {
	imports, err := providerImports(providerPath)
	if err != nil {
		return "", err
	}
	for _, soname := range Sonames {
		syms := append(imports[soname], probeSymbols[soname]...)
		if err := buildLibrary(dir, soname, dedupe(syms)); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// providerImports maps each versioned library the provider imports from (its sonames double as version names)
// to the imported symbol names.
func providerImports(path string) (map[string][]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("stand-ins: open the CUDA provider %s: %w", path, err)
	}
	defer f.Close()
	syms, err := f.ImportedSymbols()
	if err != nil {
		return nil, fmt.Errorf("stand-ins: imported symbols of %s: %w", path, err)
	}
	out := map[string][]string{}
	for _, s := range syms {
		out[s.Library] = append(out[s.Library], s.Name)
	}
	if len(out["libcudart.so.13"]) == 0 {
		return nil, fmt.Errorf("stand-ins: %s imports nothing from libcudart.so.13: not the pinned CUDA provider", path)
	}
	return out, nil
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func buildLibrary(dir, soname string, syms []string) error {
	base := filepath.Join(dir, soname)
	var src strings.Builder
	fmt.Fprintf(&src, "/* %s of %s: not NVIDIA's library. Every call reports \"no CUDA device\". */\n", Marker, soname)
	src.WriteString(preamble)
	if soname == "libcudart.so.13" {
		src.WriteString(signalThief)
	}
	for _, s := range syms {
		src.WriteString(body(soname, s))
	}
	if err := os.WriteFile(base+".c", []byte(src.String()), 0o644); err != nil {
		return fmt.Errorf("stand-ins: %w", err)
	}
	script := fmt.Sprintf("%s { global: *; };\n", soname)
	if err := os.WriteFile(base+".map", []byte(script), 0o644); err != nil {
		return fmt.Errorf("stand-ins: %w", err)
	}
	cmd := exec.Command("gcc", "-shared", "-fPIC", "-O0", "-w", "-o", base, base+".c",
		"-Wl,-soname,"+soname, "-Wl,--version-script,"+base+".map")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("stand-ins: gcc %s: %w\n%s", soname, err, out)
	}
	return nil
}

// Status codes the stand-ins return.
const (
	cudaErrorNoDevice          = 100 // cudaError_t and CUresult alike
	cublasStatusNotInitialized = 1
	curandStatusInitFailed     = 203
	cudnnStatusNotInitialized  = 1001
	cudnnVersion               = 91400
	standinRuntimeVersion      = 13000
)

func body(soname, name string) string {
	switch name {
	case "cudaGetErrorString":
		return `const char *cudaGetErrorString(int e) { return e == 100 ? "no CUDA-capable device is detected (` + Marker + ` libcudart)" : "unknown error (` + Marker + ` libcudart)"; }` + "\n"
	case "cudaGetErrorName":
		return `const char *cudaGetErrorName(int e) { return e == 100 ? "cudaErrorNoDevice" : "cudaErrorUnknown"; }` + "\n"
	case "cublasGetStatusString", "cublasGetStatusName", "cublasLtGetStatusString", "cublasLtGetStatusName":
		return fmt.Sprintf("const char *%s(int s) { return \"CUBLAS_STATUS_NOT_INITIALIZED (%s)\"; }\n", name, Marker)
	case "__cudaRegisterFatBinary":
		return "static void *standin_fatbin; void **__cudaRegisterFatBinary(void *f) { return &standin_fatbin; }\n"
	case "cudaGetDeviceCount":
		return "int cudaGetDeviceCount(int *n) { standin_take_signals(); if (n) *n = 0; return 100; }\n"
	case "cudaRuntimeGetVersion":
		return fmt.Sprintf("int cudaRuntimeGetVersion(int *v) { if (v) *v = %d; return 0; }\n", standinRuntimeVersion)
	case "cudaDriverGetVersion", "cuDriverGetVersion":
		return fmt.Sprintf("int %s(int *v) { if (v) *v = %d; return 0; }\n", name, standinRuntimeVersion)
	case "cuDeviceGetCount":
		return "int cuDeviceGetCount(int *n) { if (n) *n = 0; return 100; }\n"
	case "cudnnGetVersion":
		return fmt.Sprintf("size_t cudnnGetVersion(void) { return %d; }\n", cudnnVersion)
	case "curandGetVersion":
		return "int curandGetVersion(int *v) { if (v) *v = 10400; return 0; }\n"
	case "cublasGetProperty":
		return "int cublasGetProperty(int type, int *v) { if (v) *v = type == 0 ? 13 : 0; return 0; }\n"
	}
	code := cudaErrorNoDevice
	switch {
	case strings.HasPrefix(name, "cublas"):
		code = cublasStatusNotInitialized
	case strings.HasPrefix(name, "curand"):
		code = curandStatusInitFailed
	case strings.HasPrefix(name, "cudnn"):
		code = cudnnStatusNotInitialized
	}
	return fmt.Sprintf("int %s() { return %d; }\n", name, code)
}

const preamble = `#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
`

// signalThief is what the stand-in libcudart does to SIGTERM and SIGINT: it replaces the process's handlers
// with its own (no SA_ONSTACK), which only reports the signal and swallows it.
const signalThief = `static void standin_handler(int sig) {
	static const char msg[] = "` + Marker + ` libcudart: swallowed a signal\n";
	(void)sig;
	write(2, msg, sizeof msg - 1);
}
static void standin_take_signals(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = standin_handler;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}
__attribute__((constructor)) static void standin_init(void) { standin_take_signals(); }
`
