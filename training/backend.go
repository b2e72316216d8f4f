package training

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/host/cuda"
	"github.com/vitseg/vitseg/model/inference"
)

// signalCheckInterval is how often Go's signal handlers are checked while GoMLX trains on CUDA.
const signalCheckInterval = 250 * time.Millisecond

// Backend returns the GoMLX backend that trains on dev: onnx:cpu or onnx:cuda, on the same ONNX Runtime
// directory as rt. For CUDA it preloads libcudart.so.13 (GoMLX cannot find it by itself) and keeps Go's signal
// handlers in place until ctx ends. DeviceCUDA fails, naming the missing piece, when CUDA cannot run;
// DeviceAuto then trains on the CPU and logs why.
func Backend(ctx context.Context, rt *inference.Runtime, dev inference.Device, log *zap.Logger) (string, error) {
	if dev == inference.DeviceCPU {
		return "onnx:cpu", nil
	}
	cudaErr := cuda.Probe(filepath.Dir(rt.Library())).Err()
	if cudaErr == nil {
		cudaErr = cuda.PreloadRuntime()
	}
	rt.RestoreSignals(log)
	switch {
	case cudaErr == nil:
		go rt.KeepSignals(ctx, signalCheckInterval, log)
		return "onnx:cuda", nil
	case dev == inference.DeviceCUDA:
		return "", fmt.Errorf("%w: %w", inference.ErrCUDAUnavailable, cudaErr)
	}
	log.Warn("CUDA unavailable, training on the CPU", zap.Error(cudaErr))
	return "onnx:cpu", nil
}
