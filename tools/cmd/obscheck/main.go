// Command obscheck checks vitseg's dashboard and alert rules against a running Prometheus that scrapes a real
// `vitseg serve` (scripts/check-observability.sh runs it), and feeds that serve faults.
//
// Usage:
//
//	obscheck queries -prometheus URL -dashboard FILE -rules FILE [-var NAME=VALUE]... [-absent METRIC,...]
//	    every dashboard query returns data; every alert expression is valid and each metric and label it
//	    selects exists (metrics in -absent, which the Prometheus does not scrape, excepted)
//	obscheck wait -prometheus URL [-timeout D] EXPR...
//	    wait until every EXPR returns data (an alert firing: ALERTS{alertname="X",alertstate="firing"})
//	obscheck produce -brokers HOST:PORT -topic T -bucket B KEY...
//	    write one plain image reference {"bucket","key","id"} per KEY to the topic
//
// It exits 0 when the checks pass, 1 when they fail and 2 on usage errors.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// usageError is a command-line mistake (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// subcommand runs one subcommand with its arguments.
type subcommand func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// command returns the subcommand called name, or nil.
func command(name string) subcommand {
	switch name {
	case "queries":
		return runQueries
	case "wait":
		return runWait
	case "produce":
		return runProduce
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cmd subcommand
	if len(args) > 0 {
		cmd = command(args[0])
	}
	if cmd == nil {
		fmt.Fprintln(stderr, "usage: obscheck queries|wait|produce [flags] (see the package documentation)")
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	switch err.(type) {
	case nil:
		return 0
	case usageError:
		fmt.Fprintln(stderr, "obscheck:", err)
		return 2
	}
	fmt.Fprintln(stderr, "obscheck:", err)
	return 1
}
