package main

import (
	"strings"
	"testing"
	"time"
)

// TestOpsUsage: the dlq and reconcile commands refuse bad flags with exit status 2 before contacting anything.
func TestOpsUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"dlq"}, "dlq: give a command"},
		{[]string{"dlq", "purge"}, `unknown dlq command "purge"`},
		{[]string{"dlq", "replay"}, "--class is required"},
		{[]string{"dlq", "list", "--class", "nope"}, `--class "nope" is not one of`},
		{[]string{"dlq", "list", "--since", "yesterday"}, "neither a duration"},
		{[]string{"dlq", "replay", "--class", "bad_image", "--reason-match", "("}, "--reason-match"},
		{[]string{"reconcile"}, "--bucket is required"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runCLI(t, tc.args...)
			if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v (exit %d), want a usage error with %q", err, exitCode(err), tc.want)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"24h", now.Add(-24 * time.Hour)},
		{"2026-11-30T08:00:00Z", time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		got, err := parseSince(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
