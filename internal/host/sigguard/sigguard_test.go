//go:build linux

package sigguard_test

import (
	"os"
	"os/signal"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/vitseg/vitseg/internal/host/sigguard"
)

// kernelSigaction is struct sigaction of the rt_sigaction system call on linux/amd64 and arm64.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// replaceHandler installs disposition (SIG_IGN = 1) for sig behind the Go runtime's back, as native code does.
func replaceHandler(t *testing.T, sig syscall.Signal, disposition uintptr) {
	t.Helper()
	sa := kernelSigaction{handler: disposition}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0); errno != 0 {
		t.Fatalf("rt_sigaction(%v): %v", sig, errno)
	}
}

func TestRestoreBringsSignalsBackToGo(t *testing.T) {
	notified := make(chan os.Signal, 4)
	signal.Notify(notified, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(notified)
	g, err := sigguard.Save()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		replace  []syscall.Signal
		restored []syscall.Signal
	}{
		{"nothing replaced", nil, nil},
		{"SIGTERM replaced", []syscall.Signal{syscall.SIGTERM}, []syscall.Signal{syscall.SIGTERM}},
		{"both replaced", []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}, []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, sig := range tc.replace {
				replaceHandler(t, sig, 1)
			}
			restored, err := g.Restore()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(restored, tc.restored) {
				t.Fatalf("Restore restored %v, want %v", restored, tc.restored)
			}
			for _, sig := range sigguard.Signals() {
				if err := syscall.Kill(os.Getpid(), sig); err != nil {
					t.Fatal(err)
				}
				select {
				case got := <-notified:
					if got != sig {
						t.Fatalf("os/signal got %v, want %v", got, sig)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%v did not reach os/signal after Restore", sig)
				}
			}
		})
	}
}
