package e2e

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vitseg/vitseg/internal/testsupport/sampledata"
)

// updateDoc rewrites the generated parts of docs/RELIABILITY.md from what the tests observe.
var updateDoc = flag.Bool("update-doc", false, "rewrite the generated tables of docs/RELIABILITY.md")

// env holds what TestMain prepares for every test: the binary under test and where the shared inputs are.
var env struct {
	bin      string // the vitseg binary built for this run
	tmp      string // TestMain's scratch directory (the binary, the shared models)
	repoRoot string
	long     bool // VITSEG_LONG=1: the long variants

	modelsOnce sync.Once
	models     map[int64]string // seed -> tiny model file
	modelsErr  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	root, err := findRepoRoot()
	if err != nil {
		return 0, err
	}
	env.repoRoot = root
	env.long = os.Getenv("VITSEG_LONG") == "1"
	tmp, err := os.MkdirTemp("", "vitseg-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	env.tmp = tmp
	env.bin = filepath.Join(tmp, "vitseg")
	start := time.Now()
	build := exec.Command("go", "build", "-tags", "onnx", "-o", env.bin, "./cmd/vitseg")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build -tags onnx ./cmd/vitseg: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s in %s (long mode: %v)\n", env.bin, time.Since(start).Round(time.Millisecond), env.long)
	return m.Run(), nil
}

// findRepoRoot returns the directory of the vitseg go.mod above the working directory.
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" && f[1] == "github.com/vitseg/vitseg" {
					return dir, nil
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no github.com/vitseg/vitseg go.mod above the working directory")
		}
		dir = parent
	}
}

// tinyModel returns an ONNX file of the tiny preset with random weights of the given seed, made once per run
// with `vitseg model init`.
func tinyModel(t *testing.T, seed int64) string {
	t.Helper()
	env.modelsOnce.Do(func() {
		env.models = map[int64]string{}
		for _, s := range []int64{1, 2, 3} {
			p := filepath.Join(env.tmp, fmt.Sprintf("tiny-%d.onnx", s))
			cmd := exec.Command(env.bin, "model", "init", "--preset", "tiny", "--seed", fmt.Sprint(s), "-o", p)
			cmd.Env = childEnv()
			if out, err := cmd.CombinedOutput(); err != nil {
				env.modelsErr = fmt.Errorf("vitseg model init: %v\n%s", err, out)
				return
			}
			env.models[s] = p
		}
	})
	if env.modelsErr != nil {
		t.Fatal(env.modelsErr)
	}
	p, ok := env.models[seed]
	if !ok {
		t.Fatalf("no tiny model with seed %d", seed)
	}
	return p
}

// datasetDir is the shared Oxford-IIIT Pet sample (see package sampledata).
func datasetDir(t *testing.T) string { return sampledata.Dir(t) }

// photo reads one image of the dataset.
func photo(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(datasetDir(t), "images", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// samplePhotos are a few real JPEGs that the soak and fault tests reuse under many keys.
func samplePhotos(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, n := range []string{"Abyssinian_1.jpg", "Bengal_10.jpg", "american_bulldog_10.jpg", "Bengal_100.jpg"} {
		out = append(out, photo(t, n))
	}
	return out
}

// childEnv is the environment of the child processes: this one's, without VITSEG_* variables that would set
// flags behind the tests' back (the ONNX Runtime location and the cache are kept).
func childEnv(extra ...string) []string {
	keep := map[string]bool{"VITSEG_ORT_LIB": true, "VITSEG_CACHE": true}
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "VITSEG_") && !keep[name] {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond every 100 ms until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

// poll reports whether cond came to hold within timeout.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// pick returns short in CI mode and long with VITSEG_LONG=1.
func pick[T any](short, long T) T {
	if env.long {
		return long
	}
	return short
}
