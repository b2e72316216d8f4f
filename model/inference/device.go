package inference

import (
	"errors"
	"fmt"
	"path/filepath"

	ort "github.com/yalue/onnxruntime_go"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/host/cuda"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/onnxfile"
)

// Device selects the execution provider.
type Device string

// Devices.
const (
	DeviceCPU  Device = "cpu"  // ONNX Runtime's CPU provider
	DeviceCUDA Device = "cuda" // the CUDA provider; fail, naming the missing piece, if it cannot run
	DeviceAuto Device = "auto" // CUDA when it can run, else the CPU, logging why not
)

// ParseDevice parses "cpu", "cuda" or "auto".
func ParseDevice(s string) (Device, error) {
	switch d := Device(s); d {
	case DeviceCPU, DeviceCUDA, DeviceAuto:
		return d, nil
	}
	return "", fmt.Errorf("unknown device %q (want cpu, cuda or auto)", s)
}

// ErrCUDAUnavailable reports that the CUDA execution provider was requested but cannot run. It wraps one of
// package cuda's errors (provider files missing, a CUDA library not found, no device, driver too old) when the
// cause is known.
var ErrCUDAUnavailable = errors.New("CUDA execution provider unavailable")

// newSession creates the ONNX Runtime session on the device opts ask for.
func (r *Runtime) newSession(onnxModel []byte, opts Options, log *zap.Logger) (*ort.DynamicAdvancedSession, string, error) {
	if opts.Device == DeviceCUDA || opts.Device == DeviceAuto {
		sess, err := r.cudaSession(onnxModel, opts, log)
		if err == nil {
			return sess, ProviderCUDA, nil
		}
		if opts.Device == DeviceCUDA {
			return nil, "", err
		}
		log.Warn("CUDA unavailable, running on the CPU", zap.Error(err))
	}
	sess, err := r.session(onnxModel, opts, false)
	return sess, ProviderCPU, err
}

// cudaSession creates a session on the CUDA provider. ONNX Runtime loads the provider (and NVIDIA's libraries)
// on the first call; their signal handlers are replaced by Go's again before it returns.
func (r *Runtime) cudaSession(onnxModel []byte, opts Options, log *zap.Logger) (*ort.DynamicAdvancedSession, error) {
	dir := filepath.Dir(r.library)
	if err := cuda.CheckProvider(dir); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCUDAUnavailable, err)
	}
	sess, err := r.session(onnxModel, opts, true)
	defer r.RestoreSignals(log)
	if err == nil {
		return sess, nil
	}
	if cause := cuda.Probe(dir).Err(); cause != nil {
		return nil, fmt.Errorf("%w: %w (ONNX Runtime: %v)", ErrCUDAUnavailable, cause, err)
	}
	return nil, fmt.Errorf("%w: %w", ErrCUDAUnavailable, err)
}

// session creates a session with the thread settings of opts, on the CUDA provider when withCUDA, of the graph
// with its layer norms, softmaxes and GELUs fused into single operators (onnxfile.FuseForORT).
func (r *Runtime) session(onnxModel []byte, opts Options, withCUDA bool) (*ort.DynamicAdvancedSession, error) {
	if !opts.UnfusedGraph {
		fused, _, err := onnxfile.FuseForORT(onnxModel)
		if err != nil {
			return nil, fmt.Errorf("fuse the graph for ONNX Runtime: %w", err)
		}
		onnxModel = fused
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer so.Destroy()
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			return nil, fmt.Errorf("set intra-op threads: %w", err)
		}
	}
	if opts.InterOpThreads > 0 {
		if err := so.SetInterOpNumThreads(opts.InterOpThreads); err != nil {
			return nil, fmt.Errorf("set inter-op threads: %w", err)
		}
	}
	if opts.DisableSpinning {
		for _, key := range []string{"session.intra_op.allow_spinning", "session.inter_op.allow_spinning"} {
			if err := so.AddSessionConfigEntry(key, "0"); err != nil {
				return nil, fmt.Errorf("set %s: %w", key, err)
			}
		}
	}
	if opts.OptimizedModelPath != "" {
		if err := so.SetOptimizedModelFilePath(opts.OptimizedModelPath); err != nil {
			return nil, fmt.Errorf("set the optimized model path: %w", err)
		}
	}
	if opts.ProfilePrefix != "" {
		if err := so.EnableProfiling(opts.ProfilePrefix); err != nil {
			return nil, fmt.Errorf("enable profiling: %w", err)
		}
	}
	if withCUDA {
		if err := appendCUDA(so, opts.CUDADeviceID); err != nil {
			return nil, err
		}
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(onnxModel,
		[]string{model.InputName}, []string{model.OutputName}, so)
	if err != nil {
		return nil, fmt.Errorf("create ONNX Runtime session: %w", err)
	}
	return sess, nil
}

func appendCUDA(so *ort.SessionOptions, deviceID int) error {
	opts, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fmt.Errorf("CUDA provider options: %w", err)
	}
	defer opts.Destroy()
	if err := opts.Update(map[string]string{"device_id": fmt.Sprint(deviceID)}); err != nil {
		return fmt.Errorf("CUDA provider options: %w", err)
	}
	if err := so.AppendExecutionProviderCUDA(opts); err != nil {
		return fmt.Errorf("append the CUDA provider: %w", err)
	}
	return nil
}
