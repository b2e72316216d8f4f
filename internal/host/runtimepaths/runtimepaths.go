// Package runtimepaths is the one definition of where the runtimes vitseg
// downloads or builds live: the cache directory, the pinned versions and
// checksums (versions.env, embedded), the cache paths derived from them, and
// the source stamp that keys the tools built from tools/.
//
// The scripts get the same values from the vitseg-paths command
// (cmd/vitseg-paths), which scripts/lib.sh runs once per script. The
// package uses the standard library only, without cgo, so that the command
// builds before anything else is installed.
package runtimepaths

import (
	"fmt"
	"os"
	"path/filepath"
)

// CacheEnv is the environment variable that sets the cache directory.
const CacheEnv = "VITSEG_CACHE"

// CacheDir returns the cache directory, the first of:
//
//  1. $VITSEG_CACHE, when not empty;
//  2. $XDG_CACHE_HOME/vitseg, when XDG_CACHE_HOME is an absolute path (the
//     XDG Base Directory specification ignores a relative one);
//  3. $HOME/.cache/vitseg, when HOME is not empty.
//
// A relative result is made absolute against the working directory. It fails
// when none applies.
func CacheDir() (string, error) { return cacheDir(os.Getenv) }

func cacheDir(getenv func(string) string) (string, error) {
	dir := getenv(CacheEnv)
	switch xdg, home := getenv("XDG_CACHE_HOME"), getenv("HOME"); {
	case dir != "":
	case filepath.IsAbs(xdg):
		dir = filepath.Join(xdg, "vitseg")
	case home != "":
		dir = filepath.Join(home, ".cache", "vitseg")
	default:
		return "", fmt.Errorf("no cache directory: set %s, XDG_CACHE_HOME or HOME", CacheEnv)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("cache directory %s: %w", dir, err)
	}
	return abs, nil
}

// Cache is the layout of the cache: where scripts/setup.sh installs each
// pinned runtime under Dir.
type Cache struct {
	Dir  string // the cache directory
	Pins Pins   // the pinned versions
}

// Default returns the layout of CacheDir with the embedded pins.
func Default() (Cache, error) {
	pins, err := Pinned()
	if err != nil {
		return Cache{}, err
	}
	dir, err := CacheDir()
	if err != nil {
		return Cache{}, err
	}
	return Cache{Dir: dir, Pins: pins}, nil
}

// ORTDir is the directory of the pinned ONNX Runtime: its core library and,
// after `scripts/setup.sh cuda`, the CUDA provider libraries next to it.
func (c Cache) ORTDir() string {
	return filepath.Join(c.Dir, "onnxruntime", c.Pins.ORTVersion())
}

// ORTLib is the pinned ONNX Runtime core library.
func (c Cache) ORTLib() string { return filepath.Join(c.ORTDir(), "libonnxruntime.so.1") }

// MinIOBin is the pinned MinIO server.
func (c Cache) MinIOBin() string {
	return filepath.Join(c.Dir, "minio", c.Pins.MinIOVersion(), "minio")
}

// ToolsDir is the directory of the tools (devbroker, stackinit) built from
// sources with the given ToolsSourceStamp; it also holds the stamp, in
// ToolsStampFile.
func (c Cache) ToolsDir(stamp string) string {
	return filepath.Join(c.Dir, "tools", ToolsKey(stamp))
}

// DevbrokerBin is the devbroker built from sources with the given stamp.
func (c Cache) DevbrokerBin(stamp string) string {
	return filepath.Join(c.ToolsDir(stamp), "devbroker")
}
