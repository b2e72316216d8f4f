package main

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// testSupportDir is the folder, relative to the module's root, that holds the test harnesses.
const testSupportDir = "internal/testsupport"

// violation is one forbidden import.
type violation struct {
	file, imported string
}

func (v violation) String() string {
	return fmt.Sprintf("%s imports test support %s", v.file, v.imported)
}

// violations walks the module rooted at root (module path module), skipping nested modules, and returns the
// imports of test support made by product files.
func violations(root, module string) ([]violation, error) {
	var bad []violation
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			return skipDir(p, rel, d)
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || isTestSupport(path.Dir(rel)) {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			ip, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if local, ok := strings.CutPrefix(ip, module+"/"); ok && isTestSupport(local) {
				bad = append(bad, violation{file: rel, imported: ip})
			}
		}
		return nil
	})
	return bad, err
}

// skipDir skips hidden folders, testdata and nested modules (another go.mod below the root).
func skipDir(p, rel string, d fs.DirEntry) error {
	if rel == "." {
		return nil
	}
	name := d.Name()
	if strings.HasPrefix(name, ".") || name == "testdata" {
		return filepath.SkipDir
	}
	if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
		return filepath.SkipDir
	}
	return nil
}

// isTestSupport reports whether the package at dir (relative to the module's root) is test support.
func isTestSupport(dir string) bool {
	return dir == testSupportDir || strings.HasPrefix(dir, testSupportDir+"/") || strings.HasSuffix(path.Base(dir), "test")
}
