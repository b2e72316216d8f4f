package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model"
)

// TestModelsCandidateCommands drives a candidate through the CLI against a real MinIO registry: publish
// --candidate proposes it, status shows it, reject and promote decide it, status shows the last decision.
func TestModelsCandidateCommands(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.MakeBucket("models")
	file := modeltest.WriteFile(t, modeltest.Export(t, model.PresetTiny, "x", 1))
	models := func(args ...string) string {
		t.Helper()
		args = append([]string{"models", args[0], "--registry-bucket", "models", "--s3-endpoint", m.Endpoint(),
			"--s3-access-key", m.AccessKey(), "--s3-secret-key", m.SecretKey(), "--log-level", "error"}, args[1:]...)
		out, stderr, err := runCLI(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr)
		}
		return out
	}
	steps := []struct {
		args []string
		want []string
	}{
		{[]string{"publish", "--force", "--candidate", file}, []string{"version 000001 published (now current)"}},
		{[]string{"publish", "--force", "--candidate", file}, []string{"version 000002 proposed as the candidate"}},
		{[]string{"status"}, []string{"current: 000001", "candidate: 000002 (compared with 000001"}},
		{[]string{"reject", "--reason", "too slow", "000002"}, []string{"rejected candidate 000002: too slow"}},
		{[]string{"status"}, []string{"candidate: none", "last decision: 000002 rejected (operator"}},
		{[]string{"publish", "--force", "--candidate", file}, []string{"version 000003 proposed as the candidate"}},
		{[]string{"promote", "000003"}, []string{"current version: 000003 (previous 000001)"}},
		{[]string{"status"}, []string{"current: 000003", "000003 promoted (operator", "promoted by an operator"}},
		{[]string{"list"}, []string{"000002 rejected", "000003 published *"}},
	}
	for _, s := range steps {
		out := models(s.args...)
		flat := strings.Join(strings.Fields(out), " ") // Columns are aligned with spaces.
		for _, w := range s.want {
			if !strings.Contains(flat, w) {
				t.Errorf("models %v: output lacks %q:\n%s", s.args, w, out)
			}
		}
	}
	_, _, err := runCLI(t, "models", "reject", "--registry-bucket", "models", "--s3-endpoint", m.Endpoint(),
		"--s3-access-key", m.AccessKey(), "--s3-secret-key", m.SecretKey(), "000003")
	if err == nil || !strings.Contains(err.Error(), "not the candidate") {
		t.Errorf("rejecting a version that is not the candidate: %v", err)
	}
}

// TestLifecycleFlagsRefused: values the lifecycle cannot use are usage errors.
func TestLifecycleFlagsRefused(t *testing.T) {
	base := []string{"serve", "--allow", "pets", "--model", "m.onnx"}
	tests := [][]string{
		{"--shadow-fraction", "1.5"},
		{"--shadow-fraction", "-0.1"},
		{"--shadow-min-images", "0"},
		{"--rollback-latency-factor", "0"},
		{"--shadow-min-labeled", "-1"},
		{"--shadow-accuracy-tolerance", "-0.1"},
		{"--rollback-accuracy-drop", "-0.1"},
		{"--labels-prefix", "pets/labeled"}, // with --model: no lifecycle
		{"--labels-prefix", "pets/labeled", "--shadow-fraction", "0"},
	}
	for _, extra := range tests {
		t.Run(strings.Join(extra, " "), func(t *testing.T) {
			_, _, err := runCLI(t, append(append([]string{}, base...), extra...)...)
			var u usageError
			if !errors.As(err, &u) {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}
	for _, args := range [][]string{
		{"--promote", "later"},
		{"--only-scored-labels"},                                // no registry
		{"--only-scored-labels", "--registry-bucket", "models"}, // a directory: serve scores labels in a bucket
	} {
		args = append([]string{"train", "--data", "d", "--out", "o"}, args...)
		if _, _, err := runCLI(t, args...); !errors.As(err, new(usageError)) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
