package inference

import (
	"context"
	"fmt"
	"os"

	ort "github.com/yalue/onnxruntime_go"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model"
)

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
	// UnfusedGraph runs the graph as exported, without onnxfile.FuseForORT (the comparison of benchmarks).
	UnfusedGraph bool
	// OptimizedModelPath, when set, is where ONNX Runtime writes the graph as it optimized it for this session
	// (diagnostics: which fusions applied; see onnxfile.OpTypes).
	OptimizedModelPath string
	// ProfilePrefix, when set, makes ONNX Runtime time every operator of every run and write the trace (Chrome
	// trace JSON) to PREFIX_DATE_TIME.json when the session closes (diagnostics: see OpProfile).
	ProfilePrefix string
	// TTA is the test-time augmentation of Segment and Masks ("" or TTANone: none).
	TTA    TTA
	Logger *zap.Logger // nil: no logging
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
	tta      TTA
	afterRun func() // CUDA: put back the signal handlers that CUDA's threads may have replaced
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
	tta, err := ParseTTA(string(opts.TTA))
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}

	sess, provider, err := r.newSession(onnxModel, opts, log)
	if err != nil {
		return nil, err
	}
	log.Info("model loaded", zap.String("name", meta.Name), zap.String("version", meta.Version),
		zap.String("provider", provider), zap.String("tta", string(tta)), zap.Int("params", meta.Params))
	out := &Session{sess: sess, meta: meta, provider: provider, tta: tta}
	if provider == ProviderCUDA {
		out.afterRun = func() { r.RestoreSignals(log) }
	}
	return out, nil
}

// Metadata describes the loaded model.
func (s *Session) Metadata() model.Metadata { return s.meta }

// Config is the loaded model's architecture.
func (s *Session) Config() model.Config { return s.meta.Config }

// Provider is the execution provider the session runs on (ProviderCPU or ProviderCUDA).
func (s *Session) Provider() string { return s.provider }

// TTA is the session's test-time augmentation.
func (s *Session) TTA() TTA { return s.tta }

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
	// Cancelling ctx terminates the run. The terminating call must be over before ro is destroyed (the
	// deferred Destroy above runs after this): stop does not wait for a call that has already begun.
	terminated := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { defer close(terminated); _ = ro.Terminate() })
	defer func() {
		if !stop() {
			<-terminated
		}
	}()
	err = s.sess.RunWithOptions([]ort.Value{in}, []ort.Value{out}, ro)
	if s.afterRun != nil {
		s.afterRun()
	}
	if err != nil {
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
