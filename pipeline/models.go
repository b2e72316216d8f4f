package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/registry"
)

// ModelRegistry is the part of the model registry the pipeline uses (*registry.Registry).
type ModelRegistry interface {
	Current(ctx context.Context) (registry.Pointer, error)
	Model(ctx context.Context, version string) ([]byte, error)
	Watch(ctx context.Context, known string, interval time.Duration, fn func(context.Context, registry.Pointer) error) error
}

// ModelSource says where the model comes from: a file (served as is) or a registry (its current version,
// hot-reloaded when the pointer moves).
type ModelSource struct {
	File         string
	Registry     ModelRegistry
	PollInterval time.Duration
}

// servingModel is a loaded, smoke-tested model.
type servingModel struct {
	sess    *inference.Session
	name    string
	version string
	lease   sessionLease // for users other than its owner (feedback.go)
}

// use runs fn with the model's session unless it was closed (false); for goroutines that do not own the model.
func (m *servingModel) use(fn func(*inference.Session) error) (bool, error) {
	return m.lease.use(m.sess, fn)
}

// close closes the model's session once the other goroutines' uses have ended.
func (m *servingModel) close() error { return m.lease.close(m.sess) }

// modelLoader loads and smoke-tests models.
type modelLoader struct {
	runtime *inference.Runtime
	opts    inference.Options
	log     *zap.Logger
	metrics *metrics
}

func (l *modelLoader) load(ctx context.Context, b []byte, version string) (*servingModel, error) {
	sess, err := l.runtime.Load(b, l.opts)
	if err != nil {
		return nil, err
	}
	meta := sess.Metadata()
	if version == "" {
		version = meta.Version
	}
	if meta.Name == "" || version == "" {
		// Every result event names the model: without both, each would be refused as invalid.
		sess.Close() //nolint:errcheck // Already failing.
		return nil, fmt.Errorf("model metadata lacks a name or version (name %q, version %q)", meta.Name, version)
	}
	// Smoke test: one blank image must give finite logits of the right size.
	logits, err := sess.Run(ctx, make([]float32, sess.ImageLen()), 1)
	if err == nil {
		for _, v := range logits {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				err = fmt.Errorf("smoke inference produced a non-finite logit (%v)", v)
				break
			}
		}
	}
	if err != nil {
		sess.Close() //nolint:errcheck // Already failing.
		return nil, fmt.Errorf("smoke inference: %w", err)
	}
	return &servingModel{sess: sess, name: meta.Name, version: version}, nil
}

// initial loads the model to start serving with.
func (l *modelLoader) initial(ctx context.Context, src ModelSource) (*servingModel, error) {
	if src.File != "" {
		b, err := os.ReadFile(src.File)
		if err != nil {
			return nil, fmt.Errorf("read model: %w", err)
		}
		return l.load(ctx, b, "")
	}
	if src.Registry == nil {
		return nil, errors.New("no model: set a model file or a registry")
	}
	p, err := src.Registry.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return l.fromRegistry(ctx, src.Registry, p.Version)
}

func (l *modelLoader) fromRegistry(ctx context.Context, reg ModelRegistry, version string) (*servingModel, error) {
	b, err := reg.Model(ctx, version)
	if err != nil {
		err = fmt.Errorf("fetch model version %s: %w", version, err)
		if errors.Is(err, registry.ErrIncomplete) || errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrChecksum) {
			return nil, registry.Refuse(err) // The version itself is broken: fetching it again cannot help.
		}
		return nil, err // Transient (S3 unreachable, say): registry.Watch tries again at the next tick.
	}
	m, err := l.load(ctx, b, version)
	if err != nil {
		return nil, registry.Refuse(fmt.Errorf("model version %s: %w", version, err))
	}
	return m, nil
}

// watch follows the registry pointer (registry.Watch and its failure policy) and sends each new, loaded and
// smoke-tested version on swaps; the old model keeps serving until then. A version that cannot be loaded, or
// whose input size differs from the serving model's, is refused (counted, logged, not retried until the
// pointer moves): images already decoded for the serving size would all fail on it.
func (l *modelLoader) watch(ctx context.Context, src ModelSource, serving *servingModel, swaps chan<- *servingModel) {
	if src.Registry == nil || src.PollInterval <= 0 {
		return
	}
	size, version := serving.sess.Config().ImageSize, serving.version
	_ = src.Registry.Watch(ctx, version, src.PollInterval, func(ctx context.Context, ptr registry.Pointer) error {
		m, err := l.fromRegistry(ctx, src.Registry, ptr.Version)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			l.metrics.modelReloads.WithLabelValues(reloadFailed).Inc()
			l.log.Error("model reload refused; the old model keeps serving", zap.String("version", ptr.Version),
				zap.String("serving", version), zap.Error(err))
			return err
		}
		if got := m.sess.Config().ImageSize; got != size {
			m.close() //nolint:errcheck // Refused anyway.
			l.metrics.modelReloads.WithLabelValues(reloadRefusedImageSize).Inc()
			err := fmt.Errorf("model version %s takes %dx%d images, the serving model %s %dx%d: "+
				"a hot swap cannot change the input size; restart serve to switch to it",
				ptr.Version, got, got, version, size, size)
			l.log.Error("model reload refused; the old model keeps serving", zap.String("version", ptr.Version),
				zap.String("serving", version), zap.Error(err))
			return registry.Refuse(err)
		}
		select {
		case swaps <- m:
			version = ptr.Version
			l.metrics.modelReloads.WithLabelValues(reloadLoaded).Inc()
			l.log.Info("new model version ready", zap.String("version", ptr.Version))
			return nil
		case <-ctx.Done():
			m.close() //nolint:errcheck // Shutting down.
			return ctx.Err()
		}
	})
}
