package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopTimeout is how long a service gets to exit after SIGTERM before it is
// killed.
const stopTimeout = 20 * time.Second

// process is a service binary that can be started, stopped and started
// again with the same arguments. Its output is appended to one log file
// across restarts.
type process struct {
	name    string
	path    string
	args    []string
	env     []string
	logPath string

	cur *execution // nil when not started or stopped
}

// execution is one run of a process.
type execution struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed once the process has exited
	err  error         // the result of Wait, set before done is closed
}

func (p *process) start() error {
	if p.cur != nil {
		return fmt.Errorf("%s already running", p.name)
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s log: %w", p.name, err)
	}
	fmt.Fprintf(logFile, "=== %s testenv: %s %s\n", time.Now().Format(time.RFC3339Nano), p.path, strings.Join(p.args, " "))
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	e := &execution{cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() {
		e.err = cmd.Wait()
		logFile.Close()
		close(e.done)
	}()
	p.cur = e
	return nil
}

// hasExited reports whether the current run has ended, and how.
func (p *process) hasExited() (bool, error) {
	if p.cur == nil {
		return true, nil
	}
	select {
	case <-p.cur.done:
		return true, p.cur.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM, waits for the process to exit and kills it if it does
// not within stopTimeout. Stopping a stopped process does nothing.
func (p *process) stop() error {
	e := p.cur
	if e == nil {
		return nil
	}
	p.cur = nil
	select {
	case <-e.done:
		return nil
	default:
	}
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		select {
		case <-e.done: // exited meanwhile
			return nil
		default:
			return fmt.Errorf("stop %s: %w", p.name, err)
		}
	}
	select {
	case <-e.done:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = e.cmd.Process.Kill()
	<-e.done
	return fmt.Errorf("%s ignored SIGTERM for %v and was killed", p.name, stopTimeout)
}

// waitUntil polls ready until it returns nil, the process exits or ctx ends.
func (p *process) waitUntil(ctx context.Context, ready func(context.Context) error) error {
	var last error
	for {
		if gone, err := p.hasExited(); gone {
			return fmt.Errorf("%s exited before it was ready: %v: %w", p.name, err, errExited)
		}
		if last = ready(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last check: %v)", p.name, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail returns at most the last n bytes of the process output.
func (p *process) logTail(n int64) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	if off := info.Size() - n; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return fmt.Sprintf("(no output: %v)", err)
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	return string(data)
}

// registerCleanup stops p at the end of the test and logs its output if the
// test failed. A service that died on its own (not through stop) fails the
// test.
func (p *process) registerCleanup(tb testing.TB) {
	tb.Cleanup(func() {
		if gone, err := p.hasExited(); gone && p.cur != nil {
			tb.Errorf("testenv: %s exited during the test: %v", p.name, err)
		}
		if err := p.stop(); err != nil {
			tb.Errorf("testenv: %v", err)
		}
		if tb.Failed() {
			tb.Logf("testenv: %s output (%s):\n%s", p.name, p.logPath, p.logTail(64<<10))
		}
	})
}

// environ returns the current environment without variables that start with
// any of the prefixes, followed by extra.
func environ(dropPrefixes []string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		keep := true
		for _, p := range dropPrefixes {
			if strings.HasPrefix(kv, p) {
				keep = false
				break
			}
		}
		if keep {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}
