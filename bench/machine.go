package bench

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LoadAvg is the kernel's 1, 5 and 15 minute load averages.
type LoadAvg [3]float64

// String formats the load averages as uptime does.
func (l LoadAvg) String() string { return fmt.Sprintf("%.2f %.2f %.2f", l[0], l[1], l[2]) }

// ReadLoadAvg reads /proc/loadavg.
func ReadLoadAvg() (LoadAvg, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return LoadAvg{}, fmt.Errorf("read load average: %w", err)
	}
	return parseLoadAvg(string(b))
}

func parseLoadAvg(s string) (LoadAvg, error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return LoadAvg{}, fmt.Errorf("parse load average %q: want 3 fields", s)
	}
	var l LoadAvg
	for i := range 3 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return LoadAvg{}, fmt.Errorf("parse load average %q: %w", s, err)
		}
		l[i] = v
	}
	return l, nil
}

// Machine describes where a report was measured.
type Machine struct {
	CPUs      int    `json:"cpus"`      // logical CPUs (nproc)
	CPUModel  string `json:"cpu_model"` // "model name" of /proc/cpuinfo
	CPUFlags  string `json:"cpu_simd"`  // the widest x86 SIMD extensions present (avx2, avx512f, ...)
	GoVersion string `json:"go"`
	OSArch    string `json:"os_arch"`
}

// DescribeMachine collects the machine description; missing procfs entries leave fields empty.
func DescribeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH}
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "model name":
			if m.CPUModel == "" {
				m.CPUModel = strings.TrimSpace(val)
			}
		case "flags":
			if m.CPUFlags == "" {
				m.CPUFlags = simdFlags(strings.Fields(val))
			}
		}
	}
	return m
}

func simdFlags(flags []string) string {
	var out []string
	for _, want := range []string{"avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile"} {
		for _, f := range flags {
			if f == want {
				out = append(out, want)
				break
			}
		}
	}
	return strings.Join(out, " ")
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat; it is 100 on every Linux architecture Go
// supports.
const clockTicks = 100

// CPUTimes is the CPU time a process consumed, in user and in kernel mode.
type CPUTimes struct {
	User, System time.Duration
}

// Total is user plus system time.
func (c CPUTimes) Total() time.Duration { return c.User + c.System }

// ProcessCPU returns the CPU time consumed so far by process pid, from /proc/PID/stat.
func ProcessCPU(pid int) (CPUTimes, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return CPUTimes{}, fmt.Errorf("process %d CPU: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

func parseStatCPU(stat string) (CPUTimes, error) {
	// The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return CPUTimes{}, errors.New("parse /proc stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return CPUTimes{}, errors.New("parse /proc stat: too few fields")
	}
	var ticks [2]int64
	for k, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return CPUTimes{}, fmt.Errorf("parse /proc stat: %w", err)
		}
		ticks[k] = v
	}
	return CPUTimes{User: time.Duration(ticks[0]) * time.Second / clockTicks,
		System: time.Duration(ticks[1]) * time.Second / clockTicks}, nil
}

// SelfCPU returns the CPU time of this process, all threads (Go and foreign, such as ONNX Runtime's thread pool)
// together.
func SelfCPU() (CPUTimes, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return CPUTimes{}, fmt.Errorf("getrusage: %w", err)
	}
	return CPUTimes{User: time.Duration(ru.Utime.Nano()), System: time.Duration(ru.Stime.Nano())}, nil
}

// Child is a running child process of this process.
type Child struct {
	PID  int
	Comm string // the executable's name, as /proc/PID/comm
}

// Children lists the direct children of this process (for example the MinIO and broker servers a test
// started), from /proc/self/task/*/children.
func Children() ([]Child, error) {
	tasks, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil {
		return nil, err
	}
	var out []Child
	seen := map[int]bool{}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // The thread exited meanwhile.
		}
		for _, s := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(s)
			if err != nil || seen[pid] {
				continue
			}
			seen[pid] = true
			comm, err := os.ReadFile(filepath.Join("/proc", s, "comm"))
			if err != nil {
				continue
			}
			out = append(out, Child{PID: pid, Comm: strings.TrimSpace(string(comm))})
		}
	}
	return out, nil
}

// CPUProbe returns a Plan.Probe that reports the CPU seconds of this process ("self") and of each current child
// process, keyed by its name, and the kernel-mode part of each as NAME+SysSuffix.
func CPUProbe() func() map[string]float64 {
	return func() map[string]float64 {
		out := map[string]float64{}
		add := func(name string, c CPUTimes) {
			out[name] += c.Total().Seconds()
			out[name+SysSuffix] += c.System.Seconds()
		}
		if c, err := SelfCPU(); err == nil {
			add("self", c)
		}
		children, _ := Children()
		for _, ch := range children {
			if c, err := ProcessCPU(ch.PID); err == nil {
				add(ch.Comm, c)
			}
		}
		return out
	}
}

// SysSuffix marks the kernel-mode part of a CPUProbe value.
const SysSuffix = " (sys)"
