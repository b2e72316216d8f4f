// Command funclen fails when a non-test Go function (or function literal) of a tree is longer than a limit:
// the project's rule that no function outside tables passes 80 lines (issue 11). Lines are counted from the
// func keyword to the closing brace. With -max-file it also fails on a non-test Go file longer than that, unless
// the file says it is generated ("Code generated ... DO NOT EDIT."): one concept per file (issue 22).
//
// Usage: funclen [-max 80] [-max-file 400] DIR...
package main

import (
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "funclen:", err)
		os.Exit(1)
	}
}

// run checks the trees named in args and reports each function over the limit on out.
func run(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("funclen", flag.ContinueOnError)
	limit := fl.Int("max", 80, "longest allowed function, in lines")
	fileLimit := fl.Int("max-file", 0, "longest allowed non-generated file, in lines (0: no limit)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() == 0 {
		return errors.New("give at least one directory")
	}
	var long []function
	for _, dir := range fl.Args() {
		fns, files, err := functions(dir)
		if err != nil {
			return err
		}
		for _, f := range fns {
			if f.lines > *limit {
				long = append(long, f)
			}
		}
		for _, f := range files {
			if *fileLimit > 0 && f.lines > *fileLimit {
				long = append(long, f)
			}
		}
	}
	for _, f := range long {
		fmt.Fprintf(out, "%s: %s is %d lines\n", f.pos, f.name, f.lines)
	}
	if len(long) > 0 {
		return fmt.Errorf("%d functions or files over the limits (%d, %d lines)", len(long), *limit, *fileLimit)
	}
	return nil
}

// function is one function declaration or literal.
type function struct {
	pos   token.Position
	name  string
	lines int
}

// functions lists the functions of the non-test Go files under dir, skipping vendor and testdata directories,
// and the files that are not generated, each as a function named "the file".
func functions(dir string) (out, files []function, err error) {
	fset := token.NewFileSet()
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "vendor" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution|parser.ParseComments)
		if err != nil {
			return fmt.Errorf("parse: %w", err)
		}
		if !ast.IsGenerated(f) {
			files = append(files, function{pos: fset.Position(f.Pos()), name: "the file", lines: fset.File(f.Pos()).LineCount()})
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch fn := n.(type) {
			case *ast.FuncDecl:
				if fn.Body != nil {
					out = append(out, measure(fset, fn, fn.Body, fn.Name.Name))
				}
			case *ast.FuncLit:
				out = append(out, measure(fset, fn, fn.Body, "func literal"))
			}
			return true
		})
		return nil
	})
	return out, files, err
}

func measure(fset *token.FileSet, fn ast.Node, body *ast.BlockStmt, name string) function {
	start := fset.Position(fn.Pos())
	return function{pos: start, name: name, lines: fset.Position(body.End()).Line - start.Line + 1}
}
