package runtimepaths

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ModulePath is the module path of the vitseg repository's root go.mod.
const ModulePath = "github.com/vitseg/vitseg"

// ToolsStampFile is the file in a ToolsDir that holds the ToolsSourceStamp of
// the sources the tools in it were built from.
const ToolsStampFile = "source-stamp"

// ErrNoRepo reports that a directory is not inside the vitseg repository.
var ErrNoRepo = errors.New("not inside the vitseg repository")

// FindRepoRoot returns the root of the vitseg repository that contains dir:
// the nearest directory at or above it whose go.mod declares ModulePath.
func FindRepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if isModuleRoot(d) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%w: no go.mod of %s at or above %s", ErrNoRepo, ModulePath, dir)
		}
	}
}

func isModuleRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for sc := bufio.NewScanner(bytes.NewReader(data)); sc.Scan(); {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == ModulePath
		}
	}
	return false
}

// ToolsSourceStamp returns the digest of the sources of the tools built from
// the repository at root: the hex sha256 of `sha256sum`-style lines
// ("<hex sha256>  <path>\n") for tools/go.mod, tools/go.sum and the non-test
// .go files under tools/devbroker and tools/stackinit (outside testdata), in
// byte order of their paths relative to tools/.
func ToolsSourceStamp(root string) (string, error) {
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
			if name := d.Name(); d.Type().IsRegular() && strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
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
	slices.Sort(files)
	var lines bytes.Buffer
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(tools, filepath.FromSlash(f)))
		if err != nil {
			return "", fmt.Errorf("tools source stamp: %w", err)
		}
		fmt.Fprintf(&lines, "%x  %s\n", sha256.Sum256(data), f)
	}
	return fmt.Sprintf("%x", sha256.Sum256(lines.Bytes())), nil
}

// ToolsKey is the cache key of the tools built from sources with the given
// stamp: its first 16 hex digits, so that checkouts with other tool sources
// (branches, worktrees) never share a build.
func ToolsKey(stamp string) string { return stamp[:min(len(stamp), 16)] }
