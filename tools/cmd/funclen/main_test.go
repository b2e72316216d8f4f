package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	long := "package p\n\nfunc long() {\n" + strings.Repeat("\t_ = 1\n", 8) + "}\n\nfunc short() {}\n"
	files := map[string]string{
		"p.go":               long,
		"p_test.go":          long, // tests are not checked
		"testdata/x/t.go":    long,
		"sub/lit.go":         "package sub\n\nvar f = func() {\n" + strings.Repeat("\t_ = 1\n", 8) + "}\n",
		"sub/notgo.txt":      long,
		"vendor/v/vendor.go": long,
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		max     string
		wantErr bool
		want    []string
	}{
		{"10", false, nil},
		{"9", true, []string{"p.go:3:1: long is 10 lines", "lit.go:3:9: func literal is 10 lines"}},
	}
	for _, tc := range tests {
		var out strings.Builder
		err := run([]string{"-max", tc.max, dir}, &out)
		if (err != nil) != tc.wantErr {
			t.Errorf("-max %s: err = %v, want error %v", tc.max, err, tc.wantErr)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if tc.want == nil && out.Len() > 0 {
			t.Errorf("-max %s: reported %q", tc.max, out.String())
		}
		for i, w := range tc.want {
			if i >= len(lines) || !strings.HasSuffix(lines[i], w) {
				t.Errorf("-max %s: line %d = %q, want suffix %q", tc.max, i, lines, w)
			}
		}
		if tc.want != nil && len(lines) != len(tc.want) {
			t.Errorf("-max %s: %d reports, want %d: %q", tc.max, len(lines), len(tc.want), lines)
		}
	}
}
