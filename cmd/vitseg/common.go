package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/model/inference"
)

// envPrefix prefixes the environment equivalents of flags.
const envPrefix = "VITSEG"

// newFlagSet returns a flag set whose usage lists the flags with their environment variables.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: vitseg %s\n\nFlags (environment variable in brackets):\n", usage)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(stderr, "  --%s [%s]%s\n      %s\n", f.Name, envflag.VarName(envPrefix, f.Name), def, f.Usage)
		})
	}
	return fs
}

// parseFlags parses args, then fills unset flags from the environment.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err.Error()}
	}
	if err := envflag.Apply(fs, envPrefix); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// logFlags configures zap.
type logFlags struct {
	level  string
	format string
}

func (l *logFlags) register(fs *flag.FlagSet, defaultFormat string) {
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&l.format, "log-format", defaultFormat, "log format: json or console")
}

func (l *logFlags) logger(stderr io.Writer) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(l.level)
	if err != nil {
		return nil, usagef("--log-level: %v", err)
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch strings.ToLower(l.format) {
	case "json":
		enc = zapcore.NewJSONEncoder(encCfg)
	case "console":
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	default:
		return nil, usagef("--log-format must be json or console, got %q", l.format)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(stderr)), level)), nil
}

// runtimeFlags locate ONNX Runtime.
type runtimeFlags struct {
	ortLib string
}

func (r *runtimeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.ortLib, "ort-lib", "", "ONNX Runtime shared library (default: the cache of scripts/setup.sh)")
}

func (r *runtimeFlags) open() (*inference.Runtime, error) {
	lib, err := inference.ResolveLibrary(r.ortLib)
	if err != nil {
		return nil, err
	}
	return inference.Open(lib)
}

// sessionFlags configure inference sessions.
type sessionFlags struct {
	device         deviceFlag
	intraOpThreads int
	interOpThreads int
	spinning       bool
	tta            string
}

// register adds the session flags; spinning is the default of --ort-spinning (off for the pipeline, whose
// decoders need the cores that spinning ONNX Runtime threads would hold).
func (s *sessionFlags) register(fs *flag.FlagSet, spinning bool) {
	s.device.register(fs)
	fs.IntVar(&s.intraOpThreads, "intra-op-threads", 0, "ONNX Runtime intra-op threads (0: serve sizes them from the CPU count, other commands use one per core)")
	fs.IntVar(&s.interOpThreads, "inter-op-threads", 0, "ONNX Runtime inter-op threads (0: default)")
	fs.BoolVar(&s.spinning, "ort-spinning", spinning, "let ONNX Runtime's pool threads busy-wait between runs "+
		"(off frees the cores for the pipeline's decoding)")
	fs.StringVar(&s.tta, "tta", string(inference.TTANone), fmt.Sprintf("test-time augmentation, one of %v: flip also "+
		"runs each image's mirror image and adds its mirrored logits (about twice the model's work)", inference.TTAs()))
}

// options are the session options, with the device decided once for the process (see deviceFlag.resolve).
func (s *sessionFlags) options(rt *inference.Runtime, log *zap.Logger) (inference.Options, error) {
	tta, err := inference.ParseTTA(s.tta)
	if err != nil {
		return inference.Options{}, fmt.Errorf("--tta: %w", err)
	}
	dev, err := s.device.resolve(rt, log)
	if err != nil {
		return inference.Options{}, err
	}
	return inference.Options{Device: dev, IntraOpThreads: s.intraOpThreads, InterOpThreads: s.interOpThreads,
		DisableSpinning: !s.spinning, TTA: tta, Logger: log}, nil
}

// localModelFlags are the flags of the commands that run one model file in the process (segment, eval):
// ONNX Runtime, the session options and the log.
type localModelFlags struct {
	rt runtimeFlags
	sf sessionFlags
	lf logFlags
}

func (m *localModelFlags) register(fs *flag.FlagSet) {
	m.rt.register(fs)
	m.sf.register(fs, true)
	m.lf.register(fs, "console")
}

// open makes the logger, opens ONNX Runtime and loads the model file at path; the caller closes the session.
func (m *localModelFlags) open(path string, stderr io.Writer) (*zap.Logger, *inference.Session, error) {
	log, err := m.lf.logger(stderr)
	if err != nil {
		return nil, nil, err
	}
	runtime, err := m.rt.open()
	if err != nil {
		return nil, nil, err
	}
	opts, err := m.sf.options(runtime, log)
	if err != nil {
		return nil, nil, err
	}
	sess, err := runtime.LoadFile(path, opts)
	if err != nil {
		return nil, nil, err
	}
	return log, sess, nil
}
