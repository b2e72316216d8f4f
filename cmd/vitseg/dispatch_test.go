package main

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestCommandEdges runs the edges of every command group and every command: a group without a command, with
// an unknown one (with or without --help after it) exits 2 and prints the group's usage, naming every
// command; "GROUP --help" prints it on stdout and exits 0; "COMMAND --help" of every command prints its
// flags and exits 0.
func TestCommandEdges(t *testing.T) {
	type edge struct {
		args     []string
		wantCode int
		usageOn  string // "stdout", "stderr" or "" (the flags' help, on stderr)
		subs     []command
	}
	var edges []edge
	for _, c := range commands() {
		if c.subs == nil {
			if c.name != "version" { // version takes no flags
				edges = append(edges, edge{args: []string{c.name, "--help"}})
			}
			continue
		}
		edges = append(edges,
			edge{[]string{c.name}, 2, "stderr", c.subs},
			edge{[]string{c.name, "no-such-command"}, 2, "stderr", c.subs},
			edge{[]string{c.name, "no-such-command", "--help"}, 2, "stderr", c.subs},
			edge{[]string{c.name, "--help"}, 0, "stdout", c.subs})
		for _, s := range c.subs {
			edges = append(edges, edge{args: []string{c.name, s.name, "--help"}})
		}
	}
	for _, tc := range edges {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, err := runCLI(t, tc.args...)
			code := 0
			if err != nil {
				code = exitCode(err)
			}
			if code != tc.wantCode {
				t.Fatalf("exit code %d (%v), want %d", code, err, tc.wantCode)
			}
			usage := map[string]string{"stdout": out, "stderr": errOut}[tc.usageOn]
			if tc.usageOn == "" {
				if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "Usage: vitseg "+strings.Join(tc.args[:len(tc.args)-1], " ")) {
					t.Errorf("want the command's flags: err %v, stderr:\n%s", err, errOut)
				}
				return
			}
			for _, s := range tc.subs {
				if !strings.Contains(usage, "\n  "+s.name+" ") {
					t.Errorf("%s lacks command %q:\n%s", tc.usageOn, s.name, usage)
				}
			}
		})
	}
}
