// Package sampledata locates the Oxford-IIIT Pet sample the tests read: $VITSEG_DATASET_DIR, else
// ../shared/datasets/oxford-pets-sample beside the module root. It has no dependencies besides the standard
// library, so any package's tests can use it.
package sampledata

import (
	"os"
	"path/filepath"
	"testing"
)

// Env is the environment variable that overrides the dataset location.
const Env = "VITSEG_DATASET_DIR"

// Dir returns the dataset directory. A missing dataset fails the test: it is part of the test environment,
// which scripts/test.sh and CI provide.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv(Env)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			tb.Fatal(err)
		}
		dir = filepath.Join(root, "..", "shared", "datasets", "oxford-pets-sample")
	}
	if fi, err := os.Stat(filepath.Join(dir, "images")); err != nil || !fi.IsDir() {
		tb.Fatalf("the Oxford-IIIT Pet sample is required at %s (set %s): %v", dir, Env, err)
	}
	return dir
}

// moduleRoot is the nearest directory above the working directory holding the root module's go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && filepath.Base(d) != "tools" {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", os.ErrNotExist
		}
	}
}
