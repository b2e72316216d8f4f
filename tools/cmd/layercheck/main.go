// Command layercheck fails when product code imports test support: a non-test Go file outside the test-support
// packages imports a package under internal/testsupport/ or a package named like zaptest (its last path
// element ends in "test", e.g. events/eventstest). Test support may import product code and other test
// support; tests (_test.go files) may import anything.
//
// Usage: layercheck [-module PATH] DIR
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "layercheck:", err)
		os.Exit(1)
	}
}

// run checks the tree named in args and reports each forbidden import on out.
func run(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("layercheck", flag.ContinueOnError)
	module := fl.String("module", "github.com/vitseg/vitseg", "module path of the tree")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		return errors.New("give one directory, the module's root")
	}
	bad, err := violations(fl.Arg(0), *module)
	if err != nil {
		return err
	}
	sort.Slice(bad, func(i, j int) bool { return bad[i].String() < bad[j].String() })
	for _, v := range bad {
		fmt.Fprintln(out, v)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d product files import test support", len(bad))
	}
	return nil
}
