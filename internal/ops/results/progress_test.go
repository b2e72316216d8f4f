package results

import (
	"bytes"
	"os"
	"testing"
)

// TestProgress: off a terminal every update is a line of its own; on one, the line is rewritten in place
// and ended once.
func TestProgress(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		want     string
	}{
		{"pipe", false, "results: 0/452\nresults: 355/452\nresults: 452/452\n"},
		{"terminal", true, "\r\033[Kresults: 0/452\r\033[Kresults: 355/452\r\033[Kresults: 452/452\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgress(&buf, "results")
			p.terminal = tc.terminal
			for _, n := range []int{0, 355, 452} {
				p.update(n, 452)
			}
			p.done()
			p.done() // idempotent
			if got := buf.String(); got != tc.want {
				t.Errorf("output %q, want %q", got, tc.want)
			}
		})
	}
}

// TestIsTerminal: buffers and regular files are not terminals.
func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(&bytes.Buffer{}) || isTerminal(f) {
		t.Error("a buffer or a regular file taken for a terminal")
	}
}
