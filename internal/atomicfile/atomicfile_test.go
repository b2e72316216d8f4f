package atomicfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/vitseg/vitseg/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		write   func(io.Writer) error
		want    string
		wantErr error
	}{
		{"replaces the file", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, "new", nil},
		{"a failed write keeps the old file", func(w io.Writer) error {
			_, _ = io.WriteString(w, "half")
			return errBoom
		}, "old", errBoom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.json")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			err := atomicfile.Write(path, 0o644, tc.write)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Write error %v, want %v", err, tc.wantErr)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tc.want {
				t.Errorf("file holds %q (%v), want %q", got, err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("folder holds %d entries, want only the file (no temporary left)", len(entries))
			}
			if fi, err := os.Stat(path); err == nil && tc.wantErr == nil && fi.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, want 0644", fi.Mode().Perm())
			}
		})
	}
}

func ExampleWriteBytes() {
	path := filepath.Join(os.TempDir(), "atomicfile-example.txt")
	defer os.Remove(path)
	if err := atomicfile.WriteBytes(path, []byte("complete or not at all\n"), 0o644); err != nil {
		panic(err)
	}
	b, _ := os.ReadFile(path)
	os.Stdout.Write(b)
	// Output: complete or not at all
}
