// Package testenv starts the real services that integration tests run
// against: a MinIO server and a Kafka-protocol broker (the tools module's
// devbroker, built on franz-go's kfake). Both run as separate processes on
// loopback, with their own temporary data directories, and are stopped by
// t.Cleanup. A process's output goes to a file whose tail is logged when the
// test fails.
//
// The binaries come from VITSEG_MINIO_BIN and VITSEG_DEVBROKER_BIN, else from
// the cache that scripts/setup.sh fills (see docs/ARCHITECTURE.md). A test
// whose binary is missing fails with a message to run scripts/setup.sh.
package testenv

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// modulePath identifies the repository root's go.mod.
const modulePath = "github.com/vitseg/vitseg"

// minioBinary returns the MinIO server to run.
func minioBinary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("VITSEG_MINIO_BIN"); p != "" {
		requireExecutable(tb, p, "VITSEG_MINIO_BIN", "minio")
		return p
	}
	root := repoRoot(tb)
	version := pinnedVersions(tb, root)["MINIO_VERSION"]
	if version == "" {
		tb.Fatalf("testenv: MINIO_VERSION missing from scripts/versions.env")
	}
	p := filepath.Join(cacheDir(tb), "minio", version, "minio")
	requireExecutable(tb, p, "", "minio")
	return p
}

// devbrokerBinary returns the devbroker to run, failing the test if it was
// built from other sources than the checked-out tools module.
func devbrokerBinary(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("VITSEG_DEVBROKER_BIN")
	if p != "" {
		requireExecutable(tb, p, "VITSEG_DEVBROKER_BIN", "devbroker")
	} else {
		key, err := toolsKey(repoRoot(tb))
		if err != nil {
			tb.Fatalf("testenv: %v", err)
		}
		p = filepath.Join(cacheDir(tb), "tools", key, "devbroker")
		requireExecutable(tb, p, "", "devbroker")
	}
	// setup.sh writes the digest of the sources it built from next to the
	// binary; a mismatch means the tools changed since.
	built, err := os.ReadFile(filepath.Join(filepath.Dir(p), "source-stamp"))
	if err != nil {
		return p // not built by setup.sh: nothing to compare
	}
	root, ok := findRepoRoot()
	if !ok {
		return p
	}
	current, err := toolsSourceStamp(root)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	if strings.TrimSpace(string(built)) != current {
		tb.Fatalf("testenv: %s is stale (tools/ changed since it was built); run scripts/setup.sh devbroker", p)
	}
	return p
}

func requireExecutable(tb testing.TB, path, envVar, what string) {
	tb.Helper()
	info, err := os.Stat(path)
	switch {
	case err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0:
		return
	case envVar != "":
		tb.Fatalf("testenv: %s=%s is not an executable %s binary (%v)", envVar, path, what, err)
	default:
		tb.Fatalf("testenv: %s binary not found at %s; run scripts/setup.sh %s (or set VITSEG_%s_BIN)",
			what, path, setupTarget(what), strings.ToUpper(what))
	}
}

func setupTarget(what string) string {
	if what == "devbroker" {
		return "devbroker"
	}
	return "minio"
}

// cacheDir returns $VITSEG_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/vitseg.
func cacheDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("VITSEG_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		tb.Fatalf("testenv: no cache directory: %v (set VITSEG_CACHE)", err)
	}
	return filepath.Join(d, "vitseg")
}

// repoRoot returns the root of the vitseg repository that contains the
// working directory (tests run in their package's directory).
func repoRoot(tb testing.TB) string {
	tb.Helper()
	root, ok := findRepoRoot()
	if !ok {
		tb.Fatalf("testenv: no %s go.mod above the working directory; set VITSEG_MINIO_BIN and VITSEG_DEVBROKER_BIN", modulePath)
	}
	return root
}

func findRepoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if isModuleRoot(dir) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func isModuleRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == modulePath
		}
	}
	return false
}

// pinnedVersions reads scripts/versions.env (KEY=value lines).
func pinnedVersions(tb testing.TB, root string) map[string]string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(root, "scripts", "versions.env"))
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	pins := make(map[string]string)
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			tb.Fatalf("testenv: scripts/versions.env: malformed line %q", line)
		}
		pins[k] = v
	}
	return pins
}

// toolsKey is the cache key of the tools built from root: the first 16 hex
// digits of their source stamp (as in scripts/lib.sh).
func toolsKey(root string) (string, error) {
	stamp, err := toolsSourceStamp(root)
	if err != nil {
		return "", fmt.Errorf("tools cache key: %w", err)
	}
	return stamp[:16], nil
}

// toolsSourceStamp mirrors vitseg_tools_source_stamp in scripts/lib.sh: the
// sha256 of `sha256sum` lines for tools/go.mod, tools/go.sum and the non-test
// .go files under tools/devbroker and tools/stackinit, in byte order of path.
func toolsSourceStamp(root string) (string, error) {
	tools := filepath.Join(root, "tools")
	files := []string{"go.mod", "go.sum"}
	for _, dir := range []string{"devbroker", "stackinit"} {
		err := filepath.WalkDir(filepath.Join(tools, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			name := d.Name()
			if d.Type().IsRegular() && strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
				rel, err := filepath.Rel(tools, path)
				if err != nil {
					return err
				}
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("tools source stamp: %w", err)
		}
	}
	sort.Strings(files)
	var lines bytes.Buffer
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(tools, f))
		if err != nil {
			return "", fmt.Errorf("tools source stamp: %w", err)
		}
		fmt.Fprintf(&lines, "%x  %s\n", sha256.Sum256(data), f)
	}
	return fmt.Sprintf("%x", sha256.Sum256(lines.Bytes())), nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// randomHex returns n random bytes, hex encoded.
func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("testenv: random: %v", err)
	}
	return hex.EncodeToString(b)
}

// errExited reports that a service process ended while it was awaited.
var errExited = errors.New("process exited")

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
