package testenv

import (
	"context"
	"os"
	"slices"
	"testing"
)

func TestMainTBSetup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(testing.TB)
		ok    bool
	}{
		{"passes", func(testing.TB) {}, true},
		{"fatal", func(tb testing.TB) { tb.Fatalf("no %s", "broker") }, false},
		{"error", func(tb testing.TB) { tb.Errorf("late") }, false},
		{"skip", func(tb testing.TB) { tb.Skip("no broker") }, false},
		{"panic", func(testing.TB) { panic("boom") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := &mainTB{}
			if ok := tb.runSetup(tc.setup); ok != tc.ok {
				t.Errorf("runSetup = %v, want %v", ok, tc.ok)
			}
			if tb.Failed() == tc.ok {
				t.Errorf("Failed() = %v after runSetup = %v", tb.Failed(), tc.ok)
			}
		})
	}
}

func TestMainTBCleanupsAndTempDir(t *testing.T) {
	tb := &mainTB{}
	var order []int
	var dir string
	var ctx context.Context
	ok := tb.runSetup(func(tb testing.TB) {
		ctx = tb.Context()
		dir = tb.TempDir()
		tb.Cleanup(func() { order = append(order, 1) })
		tb.Cleanup(func() { order = append(order, 2) })
	})
	if !ok {
		t.Fatal("setup failed")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("TempDir: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Context canceled before the cleanups")
	}
	tb.runCleanups()
	if ctx.Err() == nil {
		t.Error("Context not canceled by the cleanups")
	}
	if !slices.Equal(order, []int{2, 1}) {
		t.Errorf("cleanups ran in order %v, want [2 1]", order)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("TempDir %s left behind: %v", dir, err)
	}
}

func TestMainTBFatalAfterSetupPanics(t *testing.T) {
	tb := &mainTB{setupDone: true}
	defer func() {
		if recover() == nil {
			t.Error("Fatal after setup did not panic")
		}
	}()
	tb.Fatal("gone")
}
