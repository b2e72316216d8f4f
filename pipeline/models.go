package pipeline

import (
	"context"
	"errors"
	"fmt"
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
}

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
	// Smoke test: one blank image must give finite logits of the right size.
	logits, err := sess.Run(ctx, make([]float32, sess.ImageLen()), 1)
	if err == nil {
		for _, v := range logits {
			if v != v { // NaN
				err = errors.New("smoke inference produced NaN logits")
				break
			}
		}
	}
	if err != nil {
		sess.Close() //nolint:errcheck // Already failing.
		return nil, fmt.Errorf("smoke inference: %w", err)
	}
	meta := sess.Metadata()
	if version == "" {
		version = meta.Version
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
		return nil, fmt.Errorf("fetch model version %s: %w", version, err)
	}
	m, err := l.load(ctx, b, version)
	if err != nil {
		return nil, fmt.Errorf("model version %s: %w", version, err)
	}
	return m, nil
}

// watch polls the registry pointer and sends each new, successfully loaded version on swaps. A version that
// fails to load is logged, counted and not retried until the pointer moves again; the old model keeps serving.
func (l *modelLoader) watch(ctx context.Context, src ModelSource, current string, swaps chan<- *servingModel) {
	if src.Registry == nil || src.PollInterval <= 0 {
		return
	}
	tick := time.NewTicker(src.PollInterval)
	defer tick.Stop()
	failed := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p, err := src.Registry.Current(ctx)
		if err != nil {
			l.log.Warn("registry pointer unreadable; keeping the current model", zap.Error(err))
			continue
		}
		if p.Version == current || p.Version == failed {
			continue
		}
		m, err := l.fromRegistry(ctx, src.Registry, p.Version)
		if err != nil {
			failed = p.Version
			l.metrics.modelReloads.WithLabelValues("failed").Inc()
			l.log.Error("model reload refused; the old model keeps serving", zap.String("version", p.Version),
				zap.String("serving", current), zap.Error(err))
			continue
		}
		select {
		case swaps <- m:
			current, failed = p.Version, ""
			l.metrics.modelReloads.WithLabelValues("loaded").Inc()
			l.log.Info("new model version ready", zap.String("version", p.Version))
		case <-ctx.Done():
			m.sess.Close() //nolint:errcheck
			return
		}
	}
}
