package inference

import (
	"context"
	"errors"
	"fmt"
	"os"

	ort "github.com/yalue/onnxruntime_go"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model"
)

// Device selects the execution provider.
type Device string

// Devices.
const (
	DeviceCPU  Device = "cpu"  // ONNX Runtime's CPU provider
	DeviceCUDA Device = "cuda" // the CUDA provider; fail if it cannot be loaded
	DeviceAuto Device = "auto" // CUDA when its provider loads, else CPU with a warning
)

// ParseDevice parses "cpu", "cuda" or "auto".
func ParseDevice(s string) (Device, error) {
	switch d := Device(s); d {
	case DeviceCPU, DeviceCUDA, DeviceAuto:
		return d, nil
	}
	return "", fmt.Errorf("unknown device %q (want cpu, cuda or auto)", s)
}

// ErrCUDAUnavailable reports that the CUDA execution provider was requested but could not be loaded.
var ErrCUDAUnavailable = errors.New("CUDA execution provider unavailable")

// Options configures a session.
type Options struct {
	Device         Device
	IntraOpThreads int // 0: ONNX Runtime's default (one per core)
	InterOpThreads int // 0: ONNX Runtime's default
	CUDADeviceID   int
	// DisableSpinning stops ONNX Runtime's pool threads from busy-waiting for work between runs
	// (session.intra_op.allow_spinning=0 and session.inter_op.allow_spinning=0), leaving the cores to the other
	// stages of a pipeline that share them.
	DisableSpinning bool
	Logger          *zap.Logger // nil: no logging
}

// Provider names reported by Session.Provider.
const (
	ProviderCPU  = "CPUExecutionProvider"
	ProviderCUDA = "CUDAExecutionProvider"
)

// Session is a loaded model ready to segment batches of images.
type Session struct {
	sess     *ort.DynamicAdvancedSession
	meta     model.Metadata
	provider string
}

// LoadFile loads an exported model from path.
func (r *Runtime) LoadFile(path string, opts Options) (*Session, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	s, err := r.Load(b, opts)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	return s, nil
}

// Load creates a session for an exported model held in memory. The model must carry vitseg metadata.
func (r *Runtime) Load(onnxModel []byte, opts Options) (*Session, error) {
	meta, err := model.ReadMetadata(onnxModel)
	if err != nil {
		return nil, err
	}
	if opts.Device == "" {
		opts.Device = DeviceCPU
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
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

	provider := ProviderCPU
	if opts.Device == DeviceCUDA || opts.Device == DeviceAuto {
		cudaErr := appendCUDA(so, opts.CUDADeviceID)
		switch {
		case cudaErr == nil:
			provider = ProviderCUDA
		case opts.Device == DeviceCUDA:
			return nil, cudaErr
		default:
			log.Warn("CUDA execution provider unavailable, falling back to CPU", zap.Error(cudaErr))
		}
	}

	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(onnxModel,
		[]string{model.InputName}, []string{model.OutputName}, so)
	if err != nil {
		return nil, fmt.Errorf("create ONNX Runtime session: %w", err)
	}
	log.Info("model loaded", zap.String("name", meta.Name), zap.String("version", meta.Version),
		zap.String("provider", provider), zap.Int("params", meta.Params))
	return &Session{sess: sess, meta: meta, provider: provider}, nil
}

// cudaRequirements says what the CUDA execution provider needs, for error messages.
const cudaRequirements = "it needs a GPU build of ONNX Runtime: libonnxruntime_providers_shared.so and " +
	"libonnxruntime_providers_cuda.so next to the ONNX Runtime library, and the CUDA runtime, cuBLAS and cuDNN " +
	"libraries they were built for (CUDA 13, cuDNN 9 for the pinned build) on the loader path"

func appendCUDA(so *ort.SessionOptions, deviceID int) error {
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fmt.Errorf("%w: %w; %s", ErrCUDAUnavailable, err, cudaRequirements)
	}
	defer cuda.Destroy()
	if err := cuda.Update(map[string]string{"device_id": fmt.Sprint(deviceID)}); err != nil {
		return fmt.Errorf("%w: %w; %s", ErrCUDAUnavailable, err, cudaRequirements)
	}
	if err := so.AppendExecutionProviderCUDA(cuda); err != nil {
		return fmt.Errorf("%w: %w; %s", ErrCUDAUnavailable, err, cudaRequirements)
	}
	return nil
}

// Metadata describes the loaded model.
func (s *Session) Metadata() model.Metadata { return s.meta }

// Config is the loaded model's architecture.
func (s *Session) Config() model.Config { return s.meta.Config }

// Provider is the execution provider the session runs on (ProviderCPU or ProviderCUDA).
func (s *Session) Provider() string { return s.provider }

// ImageLen is the number of float32 values of one pre-processed image.
func (s *Session) ImageLen() int {
	c := s.meta.Config
	return c.InChannels * c.ImageSize * c.ImageSize
}

// LogitsLen is the number of float32 logits of one image.
func (s *Session) LogitsLen() int {
	c := s.meta.Config
	return c.Classes * c.ImageSize * c.ImageSize
}

// Run computes the logits [batch, classes, H, W] of images [batch, in_channels, H, W] (float32 CHW in 0..1,
// concatenated). Cancelling ctx terminates a run in progress.
func (s *Session) Run(ctx context.Context, images []float32, batch int) ([]float32, error) {
	if batch <= 0 || len(images) != batch*s.ImageLen() {
		return nil, fmt.Errorf("run: %d values for a batch of %d images of %d values", len(images), batch, s.ImageLen())
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := s.meta.Config
	in, err := ort.NewTensor(ort.NewShape(int64(batch), int64(c.InChannels), int64(c.ImageSize), int64(c.ImageSize)), images)
	if err != nil {
		return nil, fmt.Errorf("input tensor: %w", err)
	}
	defer in.Destroy()
	logits := make([]float32, batch*s.LogitsLen())
	out, err := ort.NewTensor(ort.NewShape(int64(batch), int64(c.Classes), int64(c.ImageSize), int64(c.ImageSize)), logits)
	if err != nil {
		return nil, fmt.Errorf("output tensor: %w", err)
	}
	defer out.Destroy()

	ro, err := ort.NewRunOptions()
	if err != nil {
		return nil, fmt.Errorf("run options: %w", err)
	}
	defer ro.Destroy()
	stop := context.AfterFunc(ctx, func() { _ = ro.Terminate() })
	defer stop()
	if err := s.sess.RunWithOptions([]ort.Value{in}, []ort.Value{out}, ro); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("run cancelled: %w", ctx.Err())
		}
		return nil, fmt.Errorf("run model: %w", err)
	}
	return logits, nil
}

// Close releases the session. It must not be called while a Run is in progress.
func (s *Session) Close() error {
	if err := s.sess.Destroy(); err != nil {
		return fmt.Errorf("destroy session: %w", err)
	}
	return nil
}
