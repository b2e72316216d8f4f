package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// reference is the PyTorch reference running in serve mode.
type reference struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
	ready struct {
		Params  int    `json:"params"`
		Threads int    `json:"threads"`
		Torch   string `json:"torch"`
	}
}

func startReference(ctx context.Context, s trainSetup) (*reference, error) {
	cmd := exec.CommandContext(ctx, s.python, s.script, "--serve", "--preset", s.name, "--batch", strconv.Itoa(s.batch),
		"--threads", strconv.Itoa(s.threads), "--seed", strconv.FormatInt(s.seed, 10), "--warmup", "1")
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stderr = s.log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start PyTorch reference: %w", err)
	}
	ref := &reference{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	line, err := ref.readLine()
	if err == nil {
		err = json.Unmarshal(line, &ref.ready)
	}
	if err != nil {
		ref.close()
		return nil, fmt.Errorf("PyTorch reference did not start: %w", err)
	}
	return ref, nil
}

func (r *reference) readLine() ([]byte, error) {
	if !r.lines.Scan() {
		if err := r.lines.Err(); err != nil {
			return nil, err
		}
		return nil, io.ErrUnexpectedEOF
	}
	return r.lines.Bytes(), nil
}

// steps runs n training steps in the reference and returns the time it measured for them.
func (r *reference) steps(ctx context.Context, n int) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if _, err := fmt.Fprintf(r.stdin, "%d\n", n); err != nil {
		return 0, fmt.Errorf("PyTorch reference: %w", err)
	}
	line, err := r.readLine()
	if err != nil {
		return 0, fmt.Errorf("PyTorch reference: %w", err)
	}
	var res struct {
		Seconds float64 `json:"seconds"`
		Steps   int     `json:"steps"`
		Loss    float64 `json:"loss"`
	}
	if err := json.Unmarshal(line, &res); err != nil {
		return 0, fmt.Errorf("PyTorch reference output %q: %w", line, err)
	}
	if res.Steps != n || res.Seconds <= 0 || res.Loss != res.Loss {
		return 0, fmt.Errorf("PyTorch reference output %q: want %d steps with a finite loss", line, n)
	}
	return time.Duration(res.Seconds * float64(time.Second)), nil
}

func (r *reference) close() {
	r.stdin.Close() //nolint:errcheck // Ends the serve loop.
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }() //nolint:errcheck
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill() //nolint:errcheck
		<-done
	}
}
