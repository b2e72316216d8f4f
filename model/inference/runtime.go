// Package inference serves exported vitseg models with ONNX Runtime (github.com/yalue/onnxruntime_go).
//
// ONNX Runtime's environment is process-wide: create one Runtime at startup with Open and share it. Sessions are
// safe for concurrent use: ONNX Runtime's Run is thread-safe and every call uses its own tensors.
package inference

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	ort "github.com/yalue/onnxruntime_go"
)

// ORTVersion is the pinned ONNX Runtime version that the setup script installs into the cache.
const ORTVersion = "1.29.0"

// LibraryEnv is the environment variable naming the ONNX Runtime shared library.
const LibraryEnv = "VITSEG_ORT_LIB"

// ErrLibraryNotFound reports that no ONNX Runtime shared library could be located.
var ErrLibraryNotFound = errors.New("ONNX Runtime shared library not found")

// CacheDir returns the vitseg cache directory: $VITSEG_CACHE, else $XDG_CACHE_HOME/vitseg, else ~/.cache/vitseg.
func CacheDir() string {
	if d := os.Getenv("VITSEG_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "vitseg")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "vitseg-cache")
	}
	return filepath.Join(home, ".cache", "vitseg")
}

// ResolveLibrary finds the ONNX Runtime shared library: the explicit path if given, else $VITSEG_ORT_LIB, else
// the versioned cache path written by scripts/setup.sh.
func ResolveLibrary(explicit string) (string, error) {
	candidates := []struct{ from, path string }{
		{"--ort-lib", explicit},
		{LibraryEnv, os.Getenv(LibraryEnv)},
		{"cache", filepath.Join(CacheDir(), "onnxruntime", ORTVersion, "libonnxruntime.so.1")},
	}
	for _, c := range candidates {
		if c.path == "" {
			continue
		}
		if _, err := os.Stat(c.path); err != nil {
			if c.from == "cache" {
				break
			}
			return "", fmt.Errorf("%w: %s=%s: %w", ErrLibraryNotFound, c.from, c.path, err)
		}
		return c.path, nil
	}
	return "", fmt.Errorf("%w: set --ort-lib or %s, or run scripts/setup.sh ort to install ONNX Runtime %s into %s",
		ErrLibraryNotFound, LibraryEnv, ORTVersion, filepath.Join(CacheDir(), "onnxruntime", ORTVersion))
}

// Runtime is the initialised ONNX Runtime environment of this process.
type Runtime struct {
	library string
}

// Open loads the shared library at path and initialises the ONNX Runtime environment. It also exports
// ONNXRUNTIME_SHARED_LIBRARY_PATH and GOMLX_NO_AUTO_INSTALL so that GoMLX's ONNX backend, used for training,
// loads the same library instead of downloading one. Call it once per process.
func Open(path string) (*Runtime, error) {
	if ort.IsInitialized() {
		return &Runtime{library: path}, nil
	}
	if err := os.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", path); err != nil {
		return nil, fmt.Errorf("export ONNXRUNTIME_SHARED_LIBRARY_PATH: %w", err)
	}
	if err := os.Setenv("GOMLX_NO_AUTO_INSTALL", "1"); err != nil {
		return nil, fmt.Errorf("export GOMLX_NO_AUTO_INSTALL: %w", err)
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return nil, fmt.Errorf("initialise ONNX Runtime from %s: %w", path, err)
	}
	return &Runtime{library: path}, nil
}

// Library is the path of the loaded shared library.
func (r *Runtime) Library() string { return r.library }

// Version is the ONNX Runtime version string reported by the library.
func (r *Runtime) Version() string { return ort.GetVersion() }
