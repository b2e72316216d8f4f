// Command manifestcheck validates rendered Kubernetes manifests offline against
// the typed Kubernetes API (strict decoding into k8s.io/api structs, the
// prometheus-operator monitoring API and KEDA's ScaledObject), plus the
// semantic and cross-object rules of package manifestcheck.
//
// Usage:
//
//	helm template ... | manifestcheck -
//	manifestcheck rendered.yaml other.yaml
//
// It exits 0 when every document is valid, 1 when problems were found and 2
// on usage or read errors.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/vitseg/vitseg/tools/internal/manifestcheck"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("manifestcheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var opts manifestcheck.Options
	flags.BoolVar(&opts.AllowSecretLikeConfig, "allow-secret-like-config", false, "do not fail ConfigMap keys that look like credentials")
	quiet := flags.Bool("q", false, "print only problems")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: manifestcheck [flags] FILE... (- reads standard input)")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() == 0 {
		flags.Usage()
		return 2
	}
	var objects, problems int
	for _, name := range flags.Args() {
		objs, found, err := validateFile(name, stdin, opts)
		if err != nil {
			fmt.Fprintln(stderr, "manifestcheck:", err)
			return 2
		}
		for _, p := range found {
			fmt.Fprintln(stdout, "FAIL", p)
		}
		if !*quiet {
			for _, obj := range objs {
				fmt.Fprintf(stdout, "ok   %s %s\n", obj.Source, obj.Ref())
			}
		}
		objects += len(objs)
		problems += len(found)
	}
	fmt.Fprintf(stdout, "manifestcheck: %d objects, %d problems\n", objects, problems)
	if problems > 0 {
		return 1
	}
	if objects == 0 {
		fmt.Fprintln(stderr, "manifestcheck: no objects found")
		return 1
	}
	return 0
}

func validateFile(name string, stdin io.Reader, opts manifestcheck.Options) ([]manifestcheck.Object, []manifestcheck.Problem, error) {
	if name == "-" {
		return manifestcheck.Validate(stdin, "stdin", opts)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return manifestcheck.Validate(f, name, opts)
}
