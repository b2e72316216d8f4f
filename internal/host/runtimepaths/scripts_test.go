package runtimepaths

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestScriptsAgree runs scripts/env.sh and scripts/lib.sh (which ask the
// vitseg-paths command) under several environments and compares what they
// set with what this package computes.
func TestScriptsAgree(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("needs bash on PATH, as the scripts under test do: %v", err)
	}
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	stamp, err := ToolsSourceStamp(root)
	if err != nil {
		t.Fatal(err)
	}
	pins, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	// Go's own caches stay where they are whatever HOME and XDG_CACHE_HOME say.
	goEnv, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		t.Fatal(err)
	}
	goVars := strings.Fields(string(goEnv))
	if len(goVars) != 3 {
		t.Fatalf("go env printed %q", goEnv)
	}
	home, xdg, custom := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "it's a cache")
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"HOME", map[string]string{"HOME": home}},
		{"XDG_CACHE_HOME", map[string]string{"HOME": home, "XDG_CACHE_HOME": xdg}},
		{"VITSEG_CACHE with a quote and a space", map[string]string{"HOME": home, "XDG_CACHE_HOME": xdg, "VITSEG_CACHE": custom}},
		{"overrides", map[string]string{"HOME": home, "VITSEG_ORT_LIB": "/o/lib.so", "VITSEG_MINIO_BIN": "/o/minio", "VITSEG_DEVBROKER_BIN": "/o/devbroker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var env []string
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "VITSEG_") && k != "HOME" && k != "XDG_CACHE_HOME" {
					env = append(env, kv)
				}
			}
			env = append(env, "GOCACHE="+goVars[0], "GOMODCACHE="+goVars[1], "GOPATH="+goVars[2])
			for k, v := range tt.env {
				env = append(env, k+"="+v)
			}
			dir, err := cacheDir(func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			c := Cache{Dir: dir, Pins: pins}
			or := func(k, v string) string {
				if o := tt.env[k]; o != "" {
					return o
				}
				return v
			}
			want := map[string]string{
				// env.sh's exports
				"VITSEG_CACHE":                    or("VITSEG_CACHE", dir),
				"VITSEG_ORT_LIB":                  or("VITSEG_ORT_LIB", c.ORTLib()),
				"ONNXRUNTIME_SHARED_LIBRARY_PATH": or("VITSEG_ORT_LIB", c.ORTLib()),
				"GOMLX_NO_AUTO_INSTALL":           "1",
				"VITSEG_MINIO_BIN":                or("VITSEG_MINIO_BIN", c.MinIOBin()),
				"VITSEG_DEVBROKER_BIN":            or("VITSEG_DEVBROKER_BIN", c.DevbrokerBin(stamp)),
				// lib.sh's variables
				"vitseg_cache":         dir,
				"vitseg_ort_dir":       c.ORTDir(),
				"vitseg_ort_lib":       c.ORTLib(),
				"vitseg_minio_bin":     c.MinIOBin(),
				"vitseg_tools_stamp":   stamp,
				"vitseg_tools_key":     ToolsKey(stamp),
				"vitseg_tools_dir":     c.ToolsDir(stamp),
				"vitseg_devbroker_bin": c.DevbrokerBin(stamp),
			}
			for k, v := range pins {
				want["VITSEG_PIN_"+k] = v
			}
			// One NUL-separated NAME=value per wanted name; env.sh in a
			// subshell, lib.sh in the main shell.
			script := `set -eu
(
	source scripts/env.sh 2>/dev/null
	for n in "$@"; do
		if [[ $n == [A-Z]* && $n != VITSEG_PIN_* ]]; then printf '%s=%s\0' "$n" "${!n-}"; fi
	done
	for n in "${!vitseg_@}" "${!VITSEG_PIN_@}"; do printf 'leftover %s=\0' "$n"; done
)
source scripts/lib.sh
vitseg_load
for n in "$@"; do
	if [[ $n == vitseg_* || $n == VITSEG_PIN_* ]]; then printf '%s=%s\0' "$n" "${!n-}"; fi
done`
			args := []string{"-c", script, "bash"}
			for k := range want {
				args = append(args, k)
			}
			cmd := exec.Command("bash", args...)
			cmd.Dir, cmd.Env = root, env
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("scripts: %v\n%s", err, stderr.String())
			}
			got := make(map[string]string)
			for _, kv := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
				k, v, _ := strings.Cut(kv, "=")
				got[k] = v
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: scripts say %q, Go says %q", k, got[k], v)
				}
				delete(got, k)
			}
			for k := range got {
				t.Errorf("unexpected %s (env.sh leaves nothing but its exports behind)", k)
			}
		})
	}
}
