package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (path relative to a temporary root -> content) and returns the root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestLayercheck(t *testing.T) {
	const imp = "package p\nimport _ %q\n"
	tests := []struct {
		name    string
		files   map[string]string
		wantBad []string
	}{
		{"product imports product", map[string]string{"pipeline/a.go": fmt.Sprintf(imp, "m/events")}, nil},
		{"test imports test support", map[string]string{"pipeline/a_test.go": fmt.Sprintf(imp, "m/internal/testsupport/testenv")}, nil},
		{"test support imports test support", map[string]string{
			"internal/testsupport/testenv/a.go": fmt.Sprintf(imp, "m/internal/testsupport/sampledata"),
			"events/eventstest/a.go":            fmt.Sprintf(imp, "m/internal/testsupport/testenv")}, nil},
		{"product imports a harness", map[string]string{"pipeline/a.go": fmt.Sprintf(imp, "m/internal/testsupport/testenv")},
			[]string{"pipeline/a.go imports test support m/internal/testsupport/testenv"}},
		{"product imports a *test package", map[string]string{"cmd/x/main.go": fmt.Sprintf(imp, "m/events/eventstest")},
			[]string{"cmd/x/main.go imports test support m/events/eventstest"}},
		{"other modules and testdata are not checked", map[string]string{
			"tools/go.mod": "module m/tools\n", "tools/a.go": fmt.Sprintf(imp, "m/internal/testsupport/testenv"),
			"x/testdata/a.go": fmt.Sprintf(imp, "m/internal/testsupport/testenv")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, tc.files)
			var out bytes.Buffer
			err := run([]string{"-module", "m", root}, &out)
			if (err != nil) != (len(tc.wantBad) > 0) {
				t.Fatalf("run error %v, output %q", err, out.String())
			}
			if strings.TrimSpace(out.String()) != strings.Join(tc.wantBad, "\n") {
				t.Errorf("output %q, want %q", out.String(), tc.wantBad)
			}
		})
	}
}
