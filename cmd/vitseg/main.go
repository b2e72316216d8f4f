// Command vitseg trains, exports and serves a Vision Transformer that segments pet photos (pet, background,
// border).
//
// Usage:
//
//	vitseg <command> [flags]
//
// Run "vitseg help" for the commands and "vitseg <command> --help" for their flags. Every flag can also be set
// from the environment: --kafka-brokers is VITSEG_KAFKA_BROKERS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: a command that runs, or a group of commands (subs) that dispatch picks from.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	subs    []command
}

func commands() []command {
	return []command{
		{name: "model", summary: "describe (summary) or create (init) a model", subs: modelCommands()},
		{name: "segment", summary: "segment local image files into mask PNGs", run: runSegment},
		{name: "train", summary: "train a model on labeled pets and publish it to the registry", run: runTrain},
		{name: "eval", summary: "evaluate a model on a labeled dataset split", run: runEval},
		{name: "serve", summary: "run the stream pipeline: Kafka -> S3 -> ViT -> masks + events", run: runServe},
		{name: "models", summary: "list, publish, promote or roll back model versions in the registry", subs: modelsCommands()},
		{name: "results", summary: "follow result and dead-letter events: summary and contact sheet", run: runResults},
		{name: "dlq", summary: "list the dead letters by class and reason, or replay them to the input topic", subs: dlqCommands()},
		{name: "reconcile", summary: "match the objects under a prefix with the result and dead-letter events: was anything lost?", run: runReconcile},
		{name: "dataset", summary: "upload a dataset to a bucket or download Oxford-IIIT Pet", subs: datasetCommands()},
		{name: "doctor", summary: "check ONNX Runtime, its CUDA provider, the NVIDIA libraries and the GPUs", run: runDoctor},
		{name: "version", summary: "print the version", run: runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "vitseg:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// usageError is a command-line mistake (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return usagef("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] && c.subs != nil {
			return dispatch(ctx, c.name, c.subs, args[1:], stdout, stderr)
		}
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	printUsage(stderr)
	return usagef("unknown command %q", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "vitseg segments pet photos with a Vision Transformer (pet, background, border).")
	fmt.Fprintln(w, "\nUsage: vitseg <command> [flags]\n\nCommands:")
	cmds := commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"vitseg <command> --help\" for a command's flags. Every flag also reads VITSEG_<FLAG_NAME>")
	fmt.Fprintln(w, "from the environment (e.g. --kafka-brokers: VITSEG_KAFKA_BROKERS).")
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) error {
	_, err := fmt.Fprintln(stdout, "vitseg", version)
	return err
}
