// Command vitseg-paths prints the cache directory, the pinned versions and the
// cache paths of package runtimepaths for the scripts, so that bash computes
// none of them itself:
//
//	vitseg-paths [-root DIR] env    all of them, as shell assignments
//	vitseg-paths [-root DIR] NAME   the value of one of them (e.g. vitseg_ort_lib)
//
// scripts/lib.sh runs it once per script (`go run ./cmd/vitseg-paths
// env` at the repository root) and evaluates its output. The names are
// vitseg_cache, vitseg_ort_dir, vitseg_ort_lib, vitseg_minio_bin,
// vitseg_tools_stamp, vitseg_tools_key, vitseg_tools_dir,
// vitseg_devbroker_bin and VITSEG_PIN_<KEY> for each pin. The paths are those
// of the cache; the VITSEG_*_BIN and VITSEG_ORT_LIB overrides are left to the
// callers. -root is the repository whose tools/ the stamp digests (default:
// the one containing the working directory).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/vitseg/vitseg/internal/host/runtimepaths"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "vitseg-paths: %v\n", err)
		os.Exit(2)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("vitseg-paths", flag.ContinueOnError)
	root := fs.String("root", ".", "a directory inside the vitseg repository")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: vitseg-paths [-root DIR] env|NAME")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("want one argument: env or a name")
	}
	vars, err := values(*root)
	if err != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(vars))
	if name := fs.Arg(0); name != "env" {
		v, ok := vars[name]
		if !ok {
			return fmt.Errorf("unknown name %q (want env or one of %s)", name, strings.Join(names, ", "))
		}
		_, err := fmt.Fprintln(stdout, v)
		return err
	}
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "%s=%s\n", name, shellQuote(vars[name]))
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

// values returns every value the command prints, by shell variable name.
func values(dir string) (map[string]string, error) {
	cache, err := runtimepaths.Default()
	if err != nil {
		return nil, err
	}
	root, err := runtimepaths.FindRepoRoot(dir)
	if err != nil {
		return nil, err
	}
	stamp, err := runtimepaths.ToolsSourceStamp(root)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{
		"vitseg_cache":         cache.Dir,
		"vitseg_ort_dir":       cache.ORTDir(),
		"vitseg_ort_lib":       cache.ORTLib(),
		"vitseg_minio_bin":     cache.MinIOBin(),
		"vitseg_tools_stamp":   stamp,
		"vitseg_tools_key":     runtimepaths.ToolsKey(stamp),
		"vitseg_tools_dir":     cache.ToolsDir(stamp),
		"vitseg_devbroker_bin": cache.DevbrokerBin(stamp),
	}
	for k, v := range cache.Pins {
		vars["VITSEG_PIN_"+k] = v
	}
	return vars, nil
}

// shellQuote quotes s for a POSIX shell: in single quotes, each single quote
// of s written as a closing quote, an escaped quote and an opening quote.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
