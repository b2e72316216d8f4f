package inference_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vitseg/vitseg/internal/host/cuda"
	"github.com/vitseg/vitseg/model/inference"
)

// TestDevicesWithoutCUDA runs on the CI machine: the real CUDA provider files are installed (scripts/setup.sh
// cuda) but no NVIDIA library is on the loader path. cuda fails naming a missing library, auto and cpu get the
// CPU, and CPU sessions keep working in the process after the failed CUDA attempts.
func TestDevicesWithoutCUDA(t *testing.T) {
	rt, onnxModel := setup(t)
	tests := []struct {
		device       inference.Device
		wantProvider string
		wantErr      []error
	}{
		{inference.DeviceCUDA, "", []error{inference.ErrCUDAUnavailable, cuda.ErrLibraryMissing}},
		{inference.DeviceAuto, inference.ProviderCPU, nil},
		{inference.DeviceCPU, inference.ProviderCPU, nil},
		{inference.DeviceCUDA, "", []error{inference.ErrCUDAUnavailable, cuda.ErrLibraryMissing}},
	}
	for _, tc := range tests {
		t.Run(string(tc.device), func(t *testing.T) {
			provider, err := rt.CheckDevice(tc.device, nil)
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Fatalf("CheckDevice(%s) = %v, want %v", tc.device, err, want)
				}
			}
			if tc.wantErr == nil && err != nil {
				t.Fatalf("CheckDevice(%s): %v", tc.device, err)
			}
			if provider != tc.wantProvider {
				t.Fatalf("CheckDevice(%s) provider %q, want %q", tc.device, provider, tc.wantProvider)
			}
			if tc.wantErr != nil {
				return
			}
			sess, err := rt.Load(onnxModel, inference.Options{Device: tc.device})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			if sess.Provider() != inference.ProviderCPU {
				t.Fatalf("session on %s", sess.Provider())
			}
			logits, err := sess.Run(context.Background(), make([]float32, sess.ImageLen()), 1)
			if err != nil || len(logits) != sess.LogitsLen() {
				t.Fatalf("Run after the CUDA attempts: %d logits, %v", len(logits), err)
			}
		})
	}
}
