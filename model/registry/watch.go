package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// ErrRefused marks an error of a Watch callback that rejects a version for good (a corrupt model, one the
// caller cannot serve): Watch does not offer that version again until the pointer names another one. Wrap
// it with Refuse.
var ErrRefused = errors.New("registry: version refused")

// Refuse wraps err as a refusal of the version (errors.Is(err, ErrRefused) holds).
func Refuse(err error) error { return fmt.Errorf("%w: %w", ErrRefused, err) }

// Watch polls current.json every interval and calls fn with the pointer whenever it names a version other than
// the last one fn accepted, starting with known (the version the caller already serves, "" for none).
//
// The failure policy, the one of every model watcher: an error reading the pointer, or a transient error from
// fn (fetching the model, say), is logged and the version is tried again at the next tick; a refusal (an
// error wrapping ErrRefused) is logged and that version is skipped until the pointer moves. Neither stops the
// watch; the caller keeps serving what it has. Watch returns ctx.Err() when ctx ends.
func (r *Registry) Watch(ctx context.Context, known string, interval time.Duration, fn func(context.Context, Pointer) error) error {
	if interval <= 0 {
		return fmt.Errorf("registry: watch interval %v must be positive", interval)
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	refused := ""
	for {
		p, err := r.Current(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrNoCurrent):
			r.log.Debug("no current version yet")
		case err != nil:
			r.log.Warn("reading current version", zap.Error(err))
		case p.Version != known && p.Version != refused:
			err := fn(ctx, p)
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.Is(err, ErrRefused):
				refused = p.Version
				r.log.Error("version refused; not retried until the pointer moves", zap.String("version", p.Version),
					zap.String("serving", known), zap.Error(err))
			case err != nil:
				r.log.Warn("applying current version failed, will retry", zap.String("version", p.Version), zap.Error(err))
			default:
				known, refused = p.Version, ""
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}
