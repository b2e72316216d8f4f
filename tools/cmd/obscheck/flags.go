package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns a flag set for subcommand name that prints to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("obscheck "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args into fs, turning a mistake into a usageError.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// varFlag collects repeated NAME=VALUE flags.
type varFlag map[string]string

func (v varFlag) String() string { return fmt.Sprint(map[string]string(v)) }

func (v varFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	v[name] = value
	return nil
}

// setFlag collects comma-separated names, repeatable.
type setFlag map[string]bool

func (s setFlag) String() string { return fmt.Sprint(map[string]bool(s)) }

func (s setFlag) Set(v string) error {
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			s[n] = true
		}
	}
	return nil
}
