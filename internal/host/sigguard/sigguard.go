//go:build linux

// Package sigguard keeps Go's SIGTERM and SIGINT handlers installed while native libraries run.
//
// NVIDIA's CUDA libraries, loaded by ONNX Runtime's CUDA execution provider, install their own SIGINT and SIGTERM
// handlers with sigaction (github.com/yalue/onnxruntime_go issue 140). After that, the signals no longer reach
// Go: os/signal sees nothing, so SIGTERM cannot drain the pipeline, and a handler without SA_ONSTACK can crash the
// runtime. Go cannot reinstall its own handler through os/signal, so a Guard saves the handlers the Go runtime
// installed at start-up and puts them back with sigaction whenever native code has replaced them.
package sigguard

/*
#include <signal.h>
#include <stdint.h>

static int vitseg_sig_get(int sig, struct sigaction *sa) { return sigaction(sig, NULL, sa); }
static int vitseg_sig_set(int sig, const struct sigaction *sa) { return sigaction(sig, sa, NULL); }
static uintptr_t vitseg_sig_handler(const struct sigaction *sa) { return (uintptr_t)sa->sa_sigaction; }
*/
import "C"

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// Signals are the signals a Guard keeps: the ones vitseg's commands stop on.
func Signals() []syscall.Signal { return []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} }

// Guard holds the handlers of Signals as they were when it was created.
type Guard struct {
	mu    sync.Mutex
	saved []C.struct_sigaction
}

// Save records the current handlers of Signals. Call it before native code that may replace them is loaded.
func Save() (*Guard, error) {
	g := &Guard{saved: make([]C.struct_sigaction, len(Signals()))}
	for i, sig := range Signals() {
		if rc, err := C.vitseg_sig_get(C.int(sig), &g.saved[i]); rc != 0 {
			return nil, fmt.Errorf("sigaction(%v): %w", sig, err)
		}
	}
	return g, nil
}

// Restore puts back every saved handler that native code has replaced, and returns the signals it restored.
func (g *Guard) Restore() ([]syscall.Signal, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var restored []syscall.Signal
	for i, sig := range Signals() {
		var cur C.struct_sigaction
		if rc, err := C.vitseg_sig_get(C.int(sig), &cur); rc != 0 {
			return restored, fmt.Errorf("sigaction(%v): %w", sig, err)
		}
		if C.vitseg_sig_handler(&cur) == C.vitseg_sig_handler(&g.saved[i]) {
			continue
		}
		if rc, err := C.vitseg_sig_set(C.int(sig), &g.saved[i]); rc != 0 {
			return restored, fmt.Errorf("restore the handler of %v: %w", sig, err)
		}
		restored = append(restored, sig)
	}
	return restored, nil
}

// Keep calls Restore every interval until ctx ends, reporting each restore (and error) to report. It covers
// native code whose handlers are installed later, from threads of its own (GoMLX's CUDA backend).
func (g *Guard) Keep(ctx context.Context, interval time.Duration, report func([]syscall.Signal, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if restored, err := g.Restore(); len(restored) > 0 || err != nil {
				report(restored, err)
			}
		}
	}
}
