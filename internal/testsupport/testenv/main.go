package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Main runs a test binary's tests and examples around services that setup
// starts once, for a package's TestMain:
//
//	var brokers []string
//
//	func TestMain(m *testing.M) {
//		testenv.Main(m, func(tb testing.TB) {
//			brokers = testenv.StartKafka(tb).Brokers()
//		})
//	}
//
// setup gets a testing.TB of its own, not tied to any test: StartKafka,
// StartMinIO and the like work with it as in a test, and its Cleanup
// functions run after the last test. A setup that fails (Fatal, Error, or
// Skip: a missing service is a gap, not a reason to skip) runs no test and
// makes the binary exit with status 1 after printing why. The services'
// methods that fail their test (MakeBucket, Restart, ...) panic when they
// fail after setup has returned, which fails the running test or example.
// Main calls os.Exit.
func Main(m *testing.M, setup func(tb testing.TB)) {
	tb := &mainTB{}
	ok := tb.runSetup(setup)
	code := 1
	if ok {
		tb.setupDone = true
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, "FAIL: testenv: TestMain could not start the shared test environment; no test ran")
	}
	tb.runCleanups()
	if tb.failed && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// mainTB is the testing.TB that Main gives setup. The embedded interface is
// nil: it only supplies testing.TB's unexported method; every method that
// testenv, modeltest and sampledata call is defined here.
type mainTB struct {
	testing.TB

	failed    bool
	setupDone bool
	cleanups  []func()
	ctx       context.Context
	cancel    context.CancelFunc
}

// stopSetup is the panic value with which FailNow ends setup.
type stopSetup struct{}

func (tb *mainTB) runSetup(setup func(testing.TB)) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, stop := r.(stopSetup); !stop {
				tb.failed = true
				fmt.Fprintf(os.Stderr, "testenv: TestMain setup panicked: %v\n", r)
			}
			ok = false
		}
	}()
	setup(tb)
	return !tb.failed
}

func (tb *mainTB) runCleanups() {
	if tb.cancel != nil {
		tb.cancel()
	}
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
	tb.cleanups = nil
}

func (tb *mainTB) Name() string     { return "TestMain" }
func (tb *mainTB) Helper()          {}
func (tb *mainTB) Failed() bool     { return tb.failed }
func (tb *mainTB) Skipped() bool    { return false }
func (tb *mainTB) Cleanup(f func()) { tb.cleanups = append(tb.cleanups, f) }

func (tb *mainTB) Log(args ...any) { tb.log(fmt.Sprintln(args...)) }
func (tb *mainTB) Logf(format string, args ...any) {
	tb.log(fmt.Sprintf(format, args...))
}

func (tb *mainTB) log(s string) {
	fmt.Fprintf(os.Stderr, "TestMain: %s\n", strings.TrimSuffix(s, "\n"))
}

func (tb *mainTB) Error(args ...any) { tb.Log(args...); tb.Fail() }
func (tb *mainTB) Errorf(format string, args ...any) {
	tb.Logf(format, args...)
	tb.Fail()
}

func (tb *mainTB) Fail() { tb.failed = true }

// FailNow ends setup, or, once the tests run, panics: the test or example
// that called it fails.
func (tb *mainTB) FailNow() {
	tb.failed = true
	if tb.setupDone {
		panic("testenv: shared test environment failed (see the log above)")
	}
	panic(stopSetup{})
}

func (tb *mainTB) Fatal(args ...any) { tb.Log(args...); tb.FailNow() }
func (tb *mainTB) Fatalf(format string, args ...any) {
	tb.Logf(format, args...)
	tb.FailNow()
}

// Skip and its kin fail: the shared environment is never optional.
func (tb *mainTB) Skip(args ...any) { tb.Log(append([]any{"skip refused:"}, args...)...); tb.FailNow() }
func (tb *mainTB) Skipf(format string, args ...any) {
	tb.Logf("skip refused: "+format, args...)
	tb.FailNow()
}
func (tb *mainTB) SkipNow() { tb.Log("skip refused"); tb.FailNow() }

// Context returns a context canceled just before the Cleanup functions run.
func (tb *mainTB) Context() context.Context {
	if tb.ctx == nil {
		tb.ctx, tb.cancel = context.WithCancel(context.Background())
	}
	return tb.ctx
}

// TempDir returns a new directory, removed after the last test.
func (tb *mainTB) TempDir() string {
	dir, err := os.MkdirTemp("", "testenv-main-")
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			tb.Errorf("testenv: %v", err)
		}
	})
	return dir
}

// Setenv sets an environment variable until the last test has run.
func (tb *mainTB) Setenv(key, value string) {
	prev, had := os.LookupEnv(key)
	if err := os.Setenv(key, value); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(func() {
		if had {
			os.Setenv(key, prev)
		} else {
			os.Unsetenv(key)
		}
	})
}
