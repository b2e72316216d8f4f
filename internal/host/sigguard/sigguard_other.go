//go:build !linux

package sigguard

import (
	"context"
	"syscall"
	"time"
)

// Signals are the signals a Guard keeps: the ones vitseg's commands stop on.
func Signals() []syscall.Signal { return []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} }

// Guard does nothing outside Linux, where vitseg never loads the CUDA provider.
type Guard struct{}

// Save returns a Guard that does nothing.
func Save() (*Guard, error) { return &Guard{}, nil }

// Restore restores nothing.
func (g *Guard) Restore() ([]syscall.Signal, error) { return nil, nil }

// Keep waits for ctx.
func (g *Guard) Keep(ctx context.Context, _ time.Duration, _ func([]syscall.Signal, error)) {
	<-ctx.Done()
}
