package dockerlint

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ParsePins reads a KEY=value pin file: one assignment a line, blank lines and
// # comments ignored, no quoting or expansion.
func ParsePins(data []byte) (map[string]string, error) {
	pins := map[string]string{}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return nil, fmt.Errorf("pin file line %d: want KEY=value, got %q", n, line)
		}
		pins[key] = value
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	return pins, nil
}

// CheckPins compares the Dockerfile's ARG defaults (global and per stage) with
// a pin file: every ARG whose name is a pin key must default to the pinned
// value, and every pin key starting with one of requiredPrefixes must be
// declared as an ARG with a default.
func CheckPins(dockerfile, pinFile []byte, requiredPrefixes ...string) ([]Finding, error) {
	pins, err := ParsePins(pinFile)
	if err != nil {
		return nil, err
	}
	ast, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile instructions: %w", err)
	}
	args := append([]instructions.ArgCommand{}, metaArgs...)
	for _, stage := range stages {
		for _, cmd := range stage.Commands {
			if arg, ok := cmd.(*instructions.ArgCommand); ok {
				args = append(args, *arg)
			}
		}
	}
	var findings []Finding
	declared := map[string]bool{}
	for _, arg := range args {
		for _, kv := range arg.Args {
			want, pinned := pins[kv.Key]
			if !pinned || kv.Value == nil {
				continue
			}
			declared[kv.Key] = true
			if *kv.Value != want {
				findings = append(findings, Finding{
					Rule:    "PinMismatch",
					Line:    firstLine(arg.Location()),
					Message: fmt.Sprintf("ARG %s defaults to %q but the pin file says %q", kv.Key, *kv.Value, want),
				})
			}
		}
	}
	var missing []string
	for key := range pins {
		for _, prefix := range requiredPrefixes {
			if strings.HasPrefix(key, prefix) && !declared[key] {
				missing = append(missing, key)
			}
		}
	}
	sort.Strings(missing)
	for _, key := range missing {
		findings = append(findings, Finding{Rule: "PinMissing", Message: fmt.Sprintf("pin %s=%s is not declared as an ARG default", key, pins[key])})
	}
	return findings, nil
}
