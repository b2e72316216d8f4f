package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vitseg/vitseg/pipeline"
)

// serveConfig describes one `vitseg serve` process.
type serveConfig struct {
	name  string   // for its log file and messages
	model string   // --model FILE; empty with registry
	args  []string // more flags (they override the defaults of serveArgs)
	env   []string // more environment variables
	// noWait returns as soon as the process is started, without waiting for /readyz.
	noWait bool
}

// proc is a vitseg child process (`vitseg serve` or `vitseg train`) that can be stopped, killed and started
// again with the same flags. All its runs append to one log file.
type proc struct {
	t        *testing.T
	name     string
	args     []string
	env      []string
	logPath  string
	httpAddr string // serve only

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current run exits
	err  error         // Wait's result of the last run
	runs int
}

// serveArgs are the flags every test's pipeline gets: the stack's endpoints, the allow-list of the uploads,
// small batches and a short session timeout (so a killed member leaves the group quickly).
func (s *stack) serveArgs(httpAddr string) []string {
	return []string{
		"--http-addr", httpAddr,
		"--log-format", "json", "--log-level", "info",
		"--s3-endpoint", s.minio.Endpoint(), "--s3-region", "us-east-1",
		"--kafka-brokers", strings.Join(s.kafka.Brokers(), ","), "--kafka-group", group,
		"--kafka-input-topic", inputTopic, "--kafka-result-topic", resultTopic, "--kafka-dlq-topic", dlqTopic,
		"--kafka-session-timeout", "6s",
		"--allow", bucket + "/" + uploads,
		"--output-prefix", outputPrefix,
		"--device", "cpu", "--intra-op-threads", "1",
		"--max-batch", "8", "--max-wait", "20ms",
		"--drain-timeout", "20s",
	}
}

// startServe starts a pipeline against the stack and waits until /readyz says ready. The S3 credentials go
// through the environment, as documented for secrets.
func (s *stack) startServe(t *testing.T, cfg serveConfig) *proc {
	t.Helper()
	if cfg.name == "" {
		cfg.name = "serve"
	}
	addr := freeAddr(t)
	args := append([]string{"serve"}, s.serveArgs(addr)...)
	if cfg.model != "" {
		args = append(args, "--model", cfg.model)
	}
	envs := []string{"VITSEG_S3_ACCESS_KEY=" + s.minio.AccessKey(), "VITSEG_S3_SECRET_KEY=" + s.minio.SecretKey()}
	if s.minio.TLS() {
		args = append(args, "--s3-tls", "--s3-ca-file", s.minio.CAFile())
	}
	args = append(args, cfg.args...)
	envs = append(envs, cfg.env...)
	srv := &proc{t: t, name: cfg.name, args: args, env: childEnv(envs...),
		logPath: filepath.Join(t.TempDir(), cfg.name+".log"), httpAddr: addr}
	t.Cleanup(func() {
		if err := srv.stop(); err != nil {
			t.Errorf("%s: %v", srv.name, err)
		}
		if strings.Contains(srv.logs(), s.minio.SecretKey()) {
			t.Errorf("%s: the S3 secret key appears in the log", srv.name)
		}
		if t.Failed() {
			t.Logf("%s log (%s), last 32 KiB:\n%s", srv.name, srv.logPath, tail(srv.logs(), 32<<10))
		}
	})
	srv.start()
	if !cfg.noWait {
		srv.waitReady(60 * time.Second)
	}
	return srv
}

// start runs the process once more with the same flags.
func (p *proc) start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		p.t.Fatalf("%s already running", p.name)
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(env.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	p.runs++
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
}

// pid returns the process ID of the current run.
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// running reports whether the current run is still alive.
func (p *proc) running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// signal sends sig and waits up to timeout for the process to exit; it returns the exit error.
func (p *proc) signal(sig syscall.Signal, timeout time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		p.clear()
		return fmt.Errorf("did not exit within %s of %v; killed", timeout, sig)
	}
	p.clear()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *proc) clear() {
	p.mu.Lock()
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
}

// stop shuts the process down gracefully (SIGTERM) and reports an unclean exit.
func (p *proc) stop() error {
	if err := p.signal(syscall.SIGTERM, 60*time.Second); err != nil {
		return fmt.Errorf("graceful stop: %w", err)
	}
	return nil
}

// kill SIGKILLs the process.
func (p *proc) kill() {
	p.t.Helper()
	err := p.signal(syscall.SIGKILL, 10*time.Second)
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		p.t.Fatalf("%s: SIGKILL gave %v", p.name, err)
	}
}

// wait waits up to timeout for the current run to exit by itself and returns its exit error.
func (p *proc) wait(timeout time.Duration) error {
	p.t.Helper()
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %s", p.name, timeout)
	}
	p.clear()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// get fetches a path of the HTTP server.
func (p *proc) get(path string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.httpAddr+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// readyz returns the status code and body of /readyz (code 0 when the server does not answer).
func (p *proc) readyz() (int, pipeline.Status) {
	code, body, err := p.get("/readyz")
	var r pipeline.Status
	if err == nil {
		_ = json.Unmarshal(body, &r)
	}
	return code, r
}

// waitReady waits until /readyz answers 200, failing fast if the process exits.
func (p *proc) waitReady(timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if code, _ := p.readyz(); code == http.StatusOK {
			return
		}
		if !p.running() {
			p.t.Fatalf("%s exited before it was ready: %v\n%s", p.name, p.err, tail(p.logs(), 8<<10))
		}
		if time.Now().After(deadline) {
			code, r := p.readyz()
			p.t.Fatalf("%s not ready after %s: %d %+v", p.name, timeout, code, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metric returns the value of the sample of a metric whose labels include all of labels ("" for none), summed
// over the matching samples, from /metrics.
func (p *proc) metric(name string, labels ...string) float64 {
	_, body, err := p.get("/metrics")
	if err != nil {
		return -1
	}
	return metricValue(body, name, labels...)
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)`)

// metricValue sums the samples of a metric in the Prometheus text format whose label set contains every
// label (written as name="value").
func metricValue(text []byte, name string, labels ...string) float64 {
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := sampleLine.FindStringSubmatch(sc.Text())
		if m == nil || m[1] != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(m[2], l) {
				ok = false
			}
		}
		if v, err := strconv.ParseFloat(m[3], 64); ok && err == nil {
			sum += v
		}
	}
	return sum
}

// logs returns the process output of all runs so far.
func (p *proc) logs() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

// logLines returns the JSON log records whose msg is msg.
func (p *proc) logLines(msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.Lines(p.logs()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// rss returns the resident set size of the current run in bytes, from /proc/PID/status.
func (p *proc) rss() (int64, error) {
	pid := p.pid()
	if pid == 0 {
		return 0, fmt.Errorf("%s not running", p.name)
	}
	return procRSS(pid)
}

func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
