// Command dockerfilelint runs BuildKit's Dockerfile checks (the rules of
// `docker build --check`) offline and checks the build context: sources of
// COPY/ADD must exist and must not be excluded by .dockerignore. With -env it
// also checks that the Dockerfile's ARG defaults equal the pins of a
// KEY=value file (such as internal/host/runtimepaths/versions.env) for every key
// both define.
//
// Usage:
//
//	dockerfilelint [-context DIR] [-env FILE [-require-pin-prefix P]...] [-build-arg K=V]... Dockerfile
//
// It exits 0 when nothing was found, 1 on any warning or problem and 2 on
// usage or read errors.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vitseg/vitseg/tools/internal/dockerlint"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// buildArgs collects repeated -build-arg K=V flags.
type buildArgs map[string]string

func (b buildArgs) String() string { return fmt.Sprint(map[string]string(b)) }

func (b buildArgs) Set(v string) error {
	key, value, ok := strings.Cut(v, "=")
	if !ok || key == "" {
		return fmt.Errorf("want KEY=value, got %q", v)
	}
	b[key] = value
	return nil
}

// prefixes collects repeated -require-pin-prefix flags.
type prefixes []string

func (p *prefixes) String() string { return strings.Join(*p, ",") }

func (p *prefixes) Set(v string) error {
	*p = append(*p, v)
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("dockerfilelint", flag.ContinueOnError)
	flags.SetOutput(stderr)
	contextDir := flags.String("context", "", "build context to check COPY/ADD sources and .dockerignore against (skipped when empty)")
	envFile := flags.String("env", "", "KEY=value pin file whose keys must match the Dockerfile's ARG defaults")
	overrides := buildArgs{}
	flags.Var(overrides, "build-arg", "override an ARG default (repeatable)")
	var required prefixes
	flags.Var(&required, "require-pin-prefix", "with -env: pins whose key has this prefix must be ARG defaults (repeatable)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: dockerfilelint [flags] Dockerfile")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() != 1 {
		flags.Usage()
		return 2
	}
	path := flags.Arg(0)
	findings, err := lint(ctx, path, overrides, *contextDir, *envFile, required)
	if err != nil {
		fmt.Fprintln(stderr, "dockerfilelint:", err)
		return 2
	}
	for _, f := range findings {
		fmt.Fprintf(stdout, "%s:%s\n", path, strings.TrimPrefix(f.String(), "line "))
	}
	fmt.Fprintf(stdout, "dockerfilelint: %s: %d findings\n", path, len(findings))
	if len(findings) > 0 {
		return 1
	}
	return 0
}

// lint reads the Dockerfile at path and lints it with the build-arg overrides, then checks it against the build
// context and the pin file when they are given.
func lint(ctx context.Context, path string, overrides buildArgs, contextDir, envFile string, required prefixes) ([]dockerlint.Finding, error) {
	dockerfile, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	findings, err := dockerlint.Lint(ctx, dockerfile, path, dockerlint.Options{BuildArgs: overrides})
	if err != nil {
		return nil, err
	}
	if contextDir != "" {
		more, err := dockerlint.CheckContext(dockerfile, contextDir)
		if err != nil {
			return nil, err
		}
		findings = append(findings, more...)
	}
	if envFile != "" {
		pins, err := os.ReadFile(envFile)
		if err != nil {
			return nil, err
		}
		more, err := dockerlint.CheckPins(dockerfile, pins, required...)
		if err != nil {
			return nil, err
		}
		findings = append(findings, more...)
	}
	return findings, nil
}
