package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/vitseg/vitseg/internal/host/runtimepaths"
)

func TestRun(t *testing.T) {
	t.Setenv("VITSEG_CACHE", "/c")
	pins, err := runtimepaths.Pinned()
	if err != nil {
		t.Fatal(err)
	}
	c := runtimepaths.Cache{Dir: "/c", Pins: pins}
	tests := []struct {
		args    []string
		want    string // a line of the output
		wantErr string
	}{
		{[]string{"env"}, "vitseg_ort_lib='" + c.ORTLib() + "'", ""},
		{[]string{"env"}, "VITSEG_PIN_MINIO_VERSION='" + pins.MinIOVersion() + "'", ""},
		{[]string{"-root", "../..", "vitseg_minio_bin"}, c.MinIOBin(), ""},
		{[]string{"VITSEG_PIN_ORT_VERSION"}, pins.ORTVersion(), ""},
		{[]string{"nope"}, "", `unknown name "nope"`},
		{nil, "", "want one argument"},
		{[]string{"env", "env"}, "", "want one argument"},
		{[]string{"-root", "/", "env"}, "", "not inside the vitseg repository"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out strings.Builder
			err := run(tt.args, &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains("\n"+out.String(), "\n"+tt.want+"\n") {
				t.Errorf("output %q has no line %q", out.String(), tt.want)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("needs bash on PATH (the scripts eval this quoting): %v", err)
	}
	for _, s := range []string{"", "plain", "a b", "it's", `"$HOME" \n`, "''", "a\nb"} {
		out, err := exec.Command("bash", "-c", "v="+shellQuote(s)+`; printf %s "$v"`).Output()
		if err != nil || string(out) != s {
			t.Errorf("bash reads %s as %q (%v), want %q", shellQuote(s), out, err, s)
		}
	}
}
