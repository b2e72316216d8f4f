package runtimepaths

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

// versionsEnv is the pins file, the single place where the pins are kept.
//
//go:embed versions.env
var versionsEnv string

// Pins are the pinned versions and checksums, by key (ORT_VERSION, ...).
type Pins map[string]string

// pinLine is the form of a pin: KEY=value, the value without white space.
var pinLine = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(\S+)$`)

// Pinned returns the pins of the embedded versions.env.
func Pinned() (Pins, error) {
	pins, err := ParsePins(versionsEnv)
	if err != nil {
		return nil, fmt.Errorf("versions.env: %w", err)
	}
	for _, k := range []string{"ORT_VERSION", "MINIO_VERSION"} { // what the paths derive from
		if pins[k] == "" {
			return nil, fmt.Errorf("versions.env: no %s", k)
		}
	}
	return pins, nil
}

// ParsePins parses a pins file: KEY=value lines (KEY in [A-Z][A-Z0-9_]*, a
// value without white space, no quoting or expansion), blank lines and lines
// whose first non-blank character is #. A key may appear once.
func ParsePins(data string) (Pins, error) {
	pins := make(Pins)
	n := 0
	for line := range strings.Lines(data) {
		n++
		line = strings.TrimSuffix(line, "\n")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		m := pinLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d: not KEY=value: %q", n, line)
		}
		if _, dup := pins[m[1]]; dup {
			return nil, fmt.Errorf("line %d: %s pinned twice", n, m[1])
		}
		pins[m[1]] = m[2]
	}
	return pins, nil
}

// ORTVersion is the pinned ONNX Runtime release.
func (p Pins) ORTVersion() string { return p["ORT_VERSION"] }

// MinIOVersion is the pinned MinIO module version.
func (p Pins) MinIOVersion() string { return p["MINIO_VERSION"] }
