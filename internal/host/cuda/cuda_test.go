package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportErr(t *testing.T) {
	dir := t.TempDir()
	for _, name := range ProviderFiles() {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	found := func() []Library {
		var libs []Library
		for _, r := range Requirements() {
			libs = append(libs, Library{Requirement: r, Path: "/usr/lib/" + r.Soname})
		}
		return libs
	}
	missingCuDNN := found()
	missingCuDNN[5].Err = errors.New("libcudnn.so.9: cannot open shared object file")
	tests := []struct {
		name    string
		report  Report
		wantErr error
		want    string
	}{
		{"ready", Report{ProviderDir: dir, Libraries: found(), DriverVersion: 13000, DeviceCount: 1}, nil, ""},
		{"provider missing", Report{ProviderDir: t.TempDir(), Libraries: found(), DeviceCount: 1}, ErrProviderMissing,
			"libonnxruntime_providers_shared.so is not next to the ONNX Runtime library (run scripts/setup.sh cuda"},
		{"cuDNN missing", Report{ProviderDir: dir, Libraries: missingCuDNN, DeviceCount: 1}, ErrLibraryMissing,
			"libcudnn.so.9 (cuDNN 9) is not on the loader path"},
		{"old driver", Report{ProviderDir: dir, Libraries: found(), DriverVersion: 12040, DeviceCount: 1}, ErrDriverTooOld,
			"it supports CUDA 12.4, the CUDA provider needs 13.0"},
		{"insufficient driver", Report{ProviderDir: dir, Libraries: found(), DeviceErr: cudaError(35)}, ErrDriverTooOld,
			"cudaErrorInsufficientDriver"},
		{"no device", Report{ProviderDir: dir, Libraries: found(), DriverVersion: 13000, DeviceErr: cudaError(100)},
			ErrNoDevice, "cudaErrorNoDevice"},
		{"zero devices", Report{ProviderDir: dir, Libraries: found(), DriverVersion: 13000}, ErrNoDevice, "sees no GPU"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.report.Err()
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Err() = %v, want %v containing %q", err, tc.wantErr, tc.want)
			}
		})
	}
}

func TestProbeWithoutCUDA(t *testing.T) {
	r := Probe(t.TempDir())
	if len(r.Provider) != len(ProviderFiles()) || len(r.Libraries) != len(Requirements()) {
		t.Fatalf("Probe listed %d provider files and %d libraries", len(r.Provider), len(r.Libraries))
	}
	if !errors.Is(r.Err(), ErrProviderMissing) {
		t.Fatalf("Err() = %v, want ErrProviderMissing first", r.Err())
	}
}

func ExampleFormatVersion() {
	fmt.Println(FormatVersion(13000), FormatVersion(12040))
	// Output: 13.0 12.4
}
