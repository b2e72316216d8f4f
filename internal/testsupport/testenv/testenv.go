// Package testenv starts the real services that integration tests run
// against: a MinIO server and a Kafka-protocol broker (the tools module's
// devbroker, built on franz-go's kfake). Both run as separate processes on
// loopback, with their own temporary data directories, and are stopped by
// t.Cleanup. A process's output goes to a file whose tail is logged when the
// test fails.
//
// The binaries come from VITSEG_MINIO_BIN and VITSEG_DEVBROKER_BIN, else from
// the cache that scripts/setup.sh fills (package runtimepaths; see
// docs/ARCHITECTURE.md). A test
// whose binary is missing fails with a message to run scripts/setup.sh.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vitseg/vitseg/internal/host/runtimepaths"
)

// minioBinary returns the MinIO server to run.
func minioBinary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("VITSEG_MINIO_BIN"); p != "" {
		requireExecutable(tb, p, "VITSEG_MINIO_BIN", "minio")
		return p
	}
	p := cache(tb).MinIOBin()
	requireExecutable(tb, p, "", "minio")
	return p
}

// devbrokerBinary returns the devbroker to run, failing the test if it was
// built from other sources than the checked-out tools module.
func devbrokerBinary(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("VITSEG_DEVBROKER_BIN")
	var stamp string
	if p != "" {
		requireExecutable(tb, p, "VITSEG_DEVBROKER_BIN", "devbroker")
	} else {
		stamp = toolsStamp(tb)
		p = cache(tb).DevbrokerBin(stamp)
		requireExecutable(tb, p, "", "devbroker")
	}
	// setup.sh writes the digest of the sources it built from next to the
	// binary; a mismatch means the tools changed since.
	built, err := os.ReadFile(filepath.Join(filepath.Dir(p), runtimepaths.ToolsStampFile))
	if err != nil {
		return p // not built by setup.sh: nothing to compare
	}
	if stamp == "" {
		if _, err := runtimepaths.FindRepoRoot("."); err != nil {
			return p // outside the repository: no sources to compare with
		}
		stamp = toolsStamp(tb)
	}
	if strings.TrimSpace(string(built)) != stamp {
		tb.Fatalf("testenv: %s is stale (tools/ changed since it was built); run scripts/setup.sh devbroker", p)
	}
	return p
}

// cache returns the cache layout that scripts/setup.sh fills.
func cache(tb testing.TB) runtimepaths.Cache {
	tb.Helper()
	c, err := runtimepaths.Default()
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return c
}

// toolsStamp returns the source stamp of the tools of the repository that
// contains the working directory (tests run in their package's directory).
func toolsStamp(tb testing.TB) string {
	tb.Helper()
	root, err := runtimepaths.FindRepoRoot(".")
	if err != nil {
		tb.Fatalf("testenv: %v; set VITSEG_DEVBROKER_BIN", err)
	}
	stamp, err := runtimepaths.ToolsSourceStamp(root)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return stamp
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
