// Command obsgen writes the chart's generated observability files: the Grafana dashboard
// (dashboards/vitseg.json, package grafanadash) and the plain alert rule file (alerts/vitseg-rules.yaml,
// rendered from the chart's templates/_alerts.tpl with alerts/render-values.yaml, package alertrules).
//
// Usage:
//
//	obsgen [-chart DIR]                          rewrite both files in the chart
//	obsgen [-chart DIR] -values F -rules-out OUT  write only a rule file rendered with F layered on top
//
// The second form makes test-only rule files (shorter windows) from the same source. It exits 0 on success,
// 1 on errors and 2 on usage errors.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vitseg/vitseg/tools/internal/alertrules"
	"github.com/vitseg/vitseg/tools/internal/grafanadash"
)

// Paths inside the chart.
const (
	dashboardFile   = "dashboards/vitseg.json"
	ruleFile        = "alerts/vitseg-rules.yaml"
	renderValueFile = "alerts/render-values.yaml"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("obsgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	chart := fs.String("chart", "../charts/vitseg", "the chart's directory")
	rulesOut := fs.String("rules-out", "", "write only the rule file, here, rendered with -values on top")
	var values stringList
	fs.Var(&values, "values", "values file layered over alerts/render-values.yaml (repeatable; with -rules-out)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || (len(values) > 0 && *rulesOut == "") {
		fmt.Fprintln(stderr, "usage: obsgen [-chart DIR] [-values F... -rules-out OUT]")
		return 2
	}
	var err error
	if *rulesOut != "" {
		err = writeRules(*chart, *rulesOut, values)
	} else {
		err = errors.Join(writeDashboard(*chart), writeRules(*chart, filepath.Join(*chart, ruleFile), nil))
	}
	if err != nil {
		fmt.Fprintln(stderr, "obsgen:", err)
		return 1
	}
	return 0
}

func writeDashboard(chart string) error {
	b, err := grafanadash.JSON()
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(chart, dashboardFile), b)
}

func writeRules(chart, out string, extra []string) error {
	files := append([]string{filepath.Join(chart, renderValueFile)}, extra...)
	b, err := alertrules.Render(chart, alertrules.DefaultRelease(), files...)
	if err != nil {
		return err
	}
	return writeFile(out, b)
}

// writeFile replaces path with b atomically.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".obsgen-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // Gone after the rename.
	if _, err := tmp.Write(b); err != nil {
		tmp.Close() //nolint:errcheck // The write error is the one to report.
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
