package main

import (
	"bytes"
	"context"
	"testing"
)

// TestUsage: mistakes on the command line exit 2 before anything is queried or produced.
func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no subcommand", nil},
		{"unknown subcommand", []string{"nope"}},
		{"queries without files", []string{"queries", "-prometheus", "http://127.0.0.1:1"}},
		{"bad variable", []string{"queries", "-var", "novalue", "-dashboard", "d", "-rules", "r"}},
		{"wait without expressions", []string{"wait"}},
		{"produce without keys", []string{"produce"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), tc.args, &out, &errOut); code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, errOut.String())
			}
		})
	}
}
