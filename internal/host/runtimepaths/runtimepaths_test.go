package runtimepaths

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCacheDir(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{"VITSEG_CACHE first", map[string]string{"VITSEG_CACHE": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/c", false},
		{"relative VITSEG_CACHE made absolute", map[string]string{"VITSEG_CACHE": "rel/c"}, filepath.Join(wd, "rel/c"), false},
		{"VITSEG_CACHE cleaned", map[string]string{"VITSEG_CACHE": "/c/"}, "/c", false},
		{"XDG_CACHE_HOME", map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/x/vitseg", false},
		{"relative XDG_CACHE_HOME ignored", map[string]string{"XDG_CACHE_HOME": "x", "HOME": "/h"}, "/h/.cache/vitseg", false},
		{"HOME", map[string]string{"HOME": "/h"}, "/h/.cache/vitseg", false},
		{"empty values are unset", map[string]string{"VITSEG_CACHE": "", "XDG_CACHE_HOME": "", "HOME": "/h"}, "/h/.cache/vitseg", false},
		{"nothing", map[string]string{"XDG_CACHE_HOME": "x"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cacheDir(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("cacheDir = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParsePins(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    Pins
		wantErr string
	}{
		{"pins, comments and blank lines", "# c\n\n  # indented c\nA=1\nB_2=x/y.z\n\t\nC=v0.0.0-2026+x", Pins{"A": "1", "B_2": "x/y.z", "C": "v0.0.0-2026+x"}, ""},
		{"empty", "", Pins{}, ""},
		{"lower-case key", "a=1\n", nil, "line 1"},
		{"key starting with a digit", "1A=1\n", nil, "line 1"},
		{"no =", "# c\nA\n", nil, "line 2"},
		{"empty value", "A=\n", nil, "line 1"},
		{"space in value", "A=1 2\n", nil, "line 1"},
		{"leading space", " A=1\n", nil, "line 1"},
		{"trailing space", "A=1 \n", nil, "line 1"},
		{"CRLF", "A=1\r\n", nil, "line 1"},
		{"quoted value", "A=\"1\"\n", Pins{"A": `"1"`}, ""},
		{"twice", "A=1\nA=2\n", nil, "line 2: A pinned twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePins(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePins = %v, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("ParsePins = %v, %v; want %v", got, err, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestPinned(t *testing.T) {
	pins, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{
		"ORT_VERSION", "ORT_NPM_PACKAGE", "ORT_NPM_TGZ_SHA256", "ORT_NPM_LIB_PATH", "ORT_LIB_SHA256",
		"ORT_CUDA_NPM_PACKAGE", "ORT_CUDA_NPM_VERSION", "ORT_CUDA_NPM_TGZ_SHA256", "ORT_CUDA_NPM_DIR",
		"ORT_CUDA_PROVIDER_SHA256", "ORT_CUDA_SHARED_SHA256", "MINIO_MODULE", "MINIO_VERSION",
	} {
		if pins[k] == "" {
			t.Errorf("versions.env pins no %s (scripts/setup.sh needs it)", k)
		}
	}
	sha := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for k, v := range pins {
		if strings.HasSuffix(k, "_SHA256") && !sha.MatchString(v) {
			t.Errorf("%s = %q is not a hex sha256", k, v)
		}
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(pins.ORTVersion()) {
		t.Errorf("ORTVersion = %q", pins.ORTVersion())
	}
	if !strings.HasPrefix(pins.MinIOVersion(), "v") {
		t.Errorf("MinIOVersion = %q", pins.MinIOVersion())
	}
}

func TestCachePaths(t *testing.T) {
	c := Cache{Dir: "/c", Pins: Pins{"ORT_VERSION": "1.2.3", "MINIO_VERSION": "v9"}}
	stamp := strings.Repeat("0123456789abcdef", 4)
	for _, tt := range []struct{ name, got, want string }{
		{"ORTDir", c.ORTDir(), "/c/onnxruntime/1.2.3"},
		{"ORTLib", c.ORTLib(), "/c/onnxruntime/1.2.3/libonnxruntime.so.1"},
		{"MinIOBin", c.MinIOBin(), "/c/minio/v9/minio"},
		{"ToolsKey", ToolsKey(stamp), "0123456789abcdef"},
		{"ToolsDir", c.ToolsDir(stamp), "/c/tools/0123456789abcdef"},
		{"DevbrokerBin", c.DevbrokerBin(stamp), "/c/tools/0123456789abcdef/devbroker"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestFindRepoRoot(t *testing.T) {
	dir := t.TempDir()
	write := func(path, data string) {
		t.Helper()
		path = filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("repo/go.mod", "// c\nmodule "+ModulePath+"\n\ngo 1.26\n")
	write("repo/tools/go.mod", "module "+ModulePath+"/tools\n")
	write("repo/a/b/x.go", "package b\n")
	write("other/go.mod", "module example.com/other\n")
	repo := filepath.Join(dir, "repo")
	for _, tt := range []struct {
		from, want string
	}{
		{"repo", repo},
		{"repo/a/b", repo},
		{"repo/tools", repo},
		{"other", ""},
	} {
		got, err := FindRepoRoot(filepath.Join(dir, tt.from))
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("FindRepoRoot(%s) = %q, %v; want %q", tt.from, got, err, tt.want)
		}
	}
}

// TestToolsSourceStampDefinition checks ToolsSourceStamp against its
// definition in shell terms (the one scripts/lib.sh used to compute, which
// keys the tools already in caches).
func TestToolsSourceStampDefinition(t *testing.T) {
	for _, tool := range []string{"bash", "find", "sort", "sha256sum", "cut"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("needs %s on PATH (the shell definition of the stamp uses it): %v", tool, err)
		}
	}
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", "-c", `cd "$1/tools" && {
		printf '%s\n' go.mod go.sum
		find devbroker stackinit -type f -name '*.go' ! -name '*_test.go' ! -path '*/testdata/*'
	} | LC_ALL=C sort | while IFS= read -r f; do sha256sum "$f"; done | sha256sum | cut -c1-64`, "bash", root).Output()
	if err != nil {
		t.Fatalf("shell definition: %v", err)
	}
	got, err := ToolsSourceStamp(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(out)); got != want {
		t.Errorf("ToolsSourceStamp = %s, the shell definition gives %s", got, want)
	}
}
