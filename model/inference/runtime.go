// Package inference serves exported vitseg models with ONNX Runtime (github.com/yalue/onnxruntime_go).
//
// ONNX Runtime's environment is process-wide: create one Runtime at startup with Open and share it. Sessions are
// safe for concurrent use: ONNX Runtime's Run is thread-safe and every call uses its own tensors.
package inference

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	ort "github.com/yalue/onnxruntime_go"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/host/runtimepaths"
	"github.com/vitseg/vitseg/internal/host/sigguard"
)

// LibraryEnv is the environment variable naming the ONNX Runtime shared library.
const LibraryEnv = "VITSEG_ORT_LIB"

// ErrLibraryNotFound reports that no ONNX Runtime shared library could be located.
var ErrLibraryNotFound = errors.New("ONNX Runtime shared library not found")

// ErrOtherLibrary reports an Open of a library other than the one this process has already initialised: ONNX
// Runtime's environment is process-wide, so a process runs one library.
var ErrOtherLibrary = errors.New("ONNX Runtime is already initialised from another library")

// sharedLibraryEnv names the library that Open initialised, for GoMLX's ONNX backend and for later Opens.
const sharedLibraryEnv = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

// ResolveLibrary finds the ONNX Runtime shared library: the explicit path if given, else $VITSEG_ORT_LIB, else
// the cache path of the pinned version (runtimepaths.Cache.ORTLib), where scripts/setup.sh installs it.
func ResolveLibrary(explicit string) (string, error) {
	for _, c := range []struct{ from, path string }{{"--ort-lib", explicit}, {LibraryEnv, os.Getenv(LibraryEnv)}} {
		if c.path == "" {
			continue
		}
		if _, err := os.Stat(c.path); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %w", ErrLibraryNotFound, c.from, c.path, err)
		}
		return c.path, nil
	}
	cache, err := runtimepaths.Default()
	if err != nil {
		return "", fmt.Errorf("%w: set --ort-lib or %s: %w", ErrLibraryNotFound, LibraryEnv, err)
	}
	if _, err := os.Stat(cache.ORTLib()); err == nil {
		return cache.ORTLib(), nil
	}
	return "", fmt.Errorf("%w: set --ort-lib or %s, or run scripts/setup.sh ort to install ONNX Runtime %s into %s",
		ErrLibraryNotFound, LibraryEnv, cache.Pins.ORTVersion(), cache.ORTDir())
}

// Runtime is the initialised ONNX Runtime environment of this process.
type Runtime struct {
	library string
	signals *sigguard.Guard // Go's SIGTERM and SIGINT handlers, saved before any execution provider loaded
}

// Open loads the shared library at path and initialises the ONNX Runtime environment. It also exports
// ONNXRUNTIME_SHARED_LIBRARY_PATH and GOMLX_NO_AUTO_INSTALL so that GoMLX's ONNX backend, used for training,
// loads the same library instead of downloading one. Later Opens in the same process share the environment;
// they fail with ErrOtherLibrary when path is not the library already loaded.
func Open(path string) (*Runtime, error) {
	signals, err := sigguard.Save()
	if err != nil {
		return nil, err
	}
	if ort.IsInitialized() {
		loaded := os.Getenv(sharedLibraryEnv)
		if !sameFile(loaded, path) {
			return nil, fmt.Errorf("%w: %s is loaded, %s cannot be too", ErrOtherLibrary, loaded, path)
		}
		return &Runtime{library: loaded, signals: signals}, nil
	}
	if err := os.Setenv(sharedLibraryEnv, path); err != nil {
		return nil, fmt.Errorf("export %s: %w", sharedLibraryEnv, err)
	}
	if err := os.Setenv("GOMLX_NO_AUTO_INSTALL", "1"); err != nil {
		return nil, fmt.Errorf("export GOMLX_NO_AUTO_INSTALL: %w", err)
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return nil, fmt.Errorf("initialise ONNX Runtime from %s: %w", path, err)
	}
	return &Runtime{library: path, signals: signals}, nil
}

// sameFile reports whether paths a and b name the same file (through links too).
func sameFile(a, b string) bool {
	if a == b {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// Library is the path of the loaded shared library.
func (r *Runtime) Library() string { return r.library }

// Version is the ONNX Runtime version string reported by the library.
func (r *Runtime) Version() string { return ort.GetVersion() }

// KeepSignals puts Go's SIGTERM and SIGINT handlers back whenever native code (NVIDIA's libraries under a CUDA
// provider, also GoMLX's onnx:cuda backend) has replaced them, checking every interval until ctx ends.
func (r *Runtime) KeepSignals(ctx context.Context, interval time.Duration, log *zap.Logger) {
	r.signals.Keep(ctx, interval, func(restored []syscall.Signal, err error) { logRestored(log, restored, err) })
}

// RestoreSignals puts Go's SIGTERM and SIGINT handlers back if native code has replaced them.
func (r *Runtime) RestoreSignals(log *zap.Logger) {
	restored, err := r.signals.Restore()
	logRestored(log, restored, err)
}

func logRestored(log *zap.Logger, restored []syscall.Signal, err error) {
	if err != nil {
		log.Error("cannot restore Go's signal handlers", zap.Error(err))
	}
	if len(restored) > 0 {
		names := make([]string, len(restored))
		for i, s := range restored {
			names[i] = s.String()
		}
		log.Info("restored Go's signal handlers that native code had replaced", zap.Strings("signals", names))
	}
}
