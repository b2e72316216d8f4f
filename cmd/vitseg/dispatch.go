package main

import (
	"context"
	"fmt"
	"io"
)

// dispatch runs the subcommand of the command group that args[0] names. "help", -h or --help alone print the
// group's usage on stdout; no subcommand, or one the group does not have (with or without --help after it),
// prints the usage on stderr and is a usage error (exit status 2).
func dispatch(ctx context.Context, group string, subs []command, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		printGroupUsage(stdout, group, subs)
		return nil
	}
	if len(args) == 0 {
		printGroupUsage(stderr, group, subs)
		return usagef("%s: give a command", group)
	}
	for _, c := range subs {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	printGroupUsage(stderr, group, subs)
	return usagef("unknown %s command %q", group, args[0])
}

// printGroupUsage lists a group's subcommands.
func printGroupUsage(w io.Writer, group string, subs []command) {
	fmt.Fprintf(w, "Usage: vitseg %s <command> [flags]\n\nCommands:\n", group)
	for _, c := range subs {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun \"vitseg %s <command> --help\" for a command's flags.\n", group)
}
