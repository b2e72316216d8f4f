package bench_test

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/model/inference"
)

func TestMedianAndPercentile(t *testing.T) {
	tests := []struct {
		name       string
		xs         []float64
		median     float64
		p50, p99   float64
		lo, hi     float64
		emptyInput bool
	}{
		{name: "odd", xs: []float64{3, 1, 2}, median: 2, p50: 2, p99: 3, lo: 1, hi: 3},
		{name: "even", xs: []float64{4, 1, 3, 2}, median: 2.5, p50: 2, p99: 4, lo: 1, hi: 4},
		{name: "hundred", xs: seq(1, 100), median: 50.5, p50: 50, p99: 99, lo: 1, hi: 100},
		{name: "empty", emptyInput: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []float64{bench.Median(tt.xs), bench.Percentile(tt.xs, 50), bench.Percentile(tt.xs, 99)}
			lo, hi := bench.MinMax(tt.xs)
			got = append(got, lo, hi)
			if tt.emptyInput {
				for i, v := range got {
					if !math.IsNaN(v) {
						t.Errorf("value %d of an empty input = %g, want NaN", i, v)
					}
				}
				return
			}
			want := []float64{tt.median, tt.p50, tt.p99, tt.lo, tt.hi}
			if !slices.Equal(got, want) {
				t.Errorf("median, p50, p99, min, max = %v, want %v", got, want)
			}
		})
	}
}

func seq(from, to int) []float64 {
	var out []float64
	for i := to; i >= from; i-- {
		out = append(out, float64(i))
	}
	return out
}

// TestInterleaveRotatesAndRates: cases run in rotated order each round, rates are units per reported second,
// and MinCalls and MinTime both bound the calls of a case.
func TestInterleaveRotatesAndRates(t *testing.T) {
	var order []string
	mk := func(name string, units float64, each time.Duration) bench.Case {
		return bench.Case{Name: name, Units: units, Call: func(context.Context) (time.Duration, error) {
			order = append(order, name)
			return each, nil
		}}
	}
	series, err := bench.Interleave(context.Background(),
		bench.Plan{Rounds: 3, MinTime: 300 * time.Millisecond, MinCalls: 2, Warmup: 1},
		mk("a", 8, 100*time.Millisecond), mk("b", 1, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// Warm-up a, b; round 1: a a a, b b; round 2: b b, a a a; round 3: a a a, b b.
	want := strings.Fields("a b  a a a b b  b b a a a  a a a b b")
	if !slices.Equal(order, want) {
		t.Errorf("call order %v, want %v", order, want)
	}
	if got := series[0].Rates; !slices.Equal(got, []float64{80, 80, 80}) {
		t.Errorf("a rates %v, want 80 images/s per round", got)
	}
	if got := series[1].Calls; !slices.Equal(got, []int{2, 2, 2}) {
		t.Errorf("b calls %v, want MinCalls=2 per round", got)
	}
	if r := bench.Ratios(series[0], series[1]); !slices.Equal(r, []float64{80, 80, 80}) {
		t.Errorf("ratios %v, want 80", r)
	}
}

// TestInterleaveBrackets: a bracketed plan runs the reference around every other case and divides by the
// mean of the two measurements around it.
func TestInterleaveBrackets(t *testing.T) {
	var order []string
	refRate := []float64{10, 20, 40, 50, 100, 125} // successive reference measurements: 1 unit in 1/rate s
	refCalls := 0
	ref := bench.Case{Name: "R", Units: 1, Call: func(context.Context) (time.Duration, error) {
		order = append(order, "R")
		d := time.Duration(float64(time.Second) / refRate[refCalls])
		refCalls++
		return d, nil
	}}
	mk := func(name string) bench.Case {
		return bench.Case{Name: name, Units: 1, Call: func(context.Context) (time.Duration, error) {
			order = append(order, name)
			return 100 * time.Millisecond, nil // 10 units/s
		}}
	}
	series, err := bench.Interleave(context.Background(), bench.Plan{Rounds: 2, Bracket: true}, ref, mk("a"), mk("b"))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Fields("R a R b R  R b R a R"); !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	// Round 1: R=10, a, R=20, b, R=40; round 2: R=50, b, R=100, a, R=125.
	if got := series[1].RefRates; !slices.Equal(got, []float64{15, 112.5}) {
		t.Errorf("a's reference rates %v, want [15 112.5]", got)
	}
	if got := series[2].RefRates; !slices.Equal(got, []float64{30, 75}) {
		t.Errorf("b's reference rates %v, want [30 75]", got)
	}
	if got := series[1].RefRatios(); math.Abs(got[0]-10.0/15) > 1e-12 || math.Abs(got[1]-10.0/112.5) > 1e-12 {
		t.Errorf("a's ratios %v", got)
	}
	if len(series[0].Rates) != 6 {
		t.Errorf("reference measured %d times, want 6", len(series[0].Rates))
	}
	if _, err := bench.Interleave(context.Background(), bench.Plan{Bracket: true}, ref); err == nil {
		t.Error("a bracketed plan with only a reference ran")
	}
}

func TestInterleaveStopsOnError(t *testing.T) {
	boom := context.DeadlineExceeded
	_, err := bench.Interleave(context.Background(), bench.Plan{Rounds: 2},
		bench.Case{Name: "fails", Units: 1, Call: func(context.Context) (time.Duration, error) { return 0, boom }})
	if err == nil || !strings.Contains(err.Error(), "fails") {
		t.Fatalf("err = %v, want the failing case named", err)
	}
}

// TestCPUProbeCountsSelfAndChildren: burning CPU in this process shows up in the "self" probe, and a child
// process is found and reported by name.
func TestCPUProbeCountsSelfAndChildren(t *testing.T) {
	child := exec.Command("sleep", "5")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }() //nolint:errcheck
	probe := bench.CPUProbe()
	before := probe()["self"]
	// Busy-loop until the probe sees 50ms of CPU; on a loaded machine that can take much more wall time.
	deadline := time.Now().Add(20 * time.Second)
	x := 0.0
	var values map[string]float64
	for {
		for range 100000 {
			x += math.Sqrt(x + 1)
		}
		values = probe()
		if values["self"]-before >= 0.05 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("self CPU grew %.3fs in 20s of busy loop (x=%g), want 0.05s", values["self"]-before, x)
		}
	}
	after := values["self"]
	if sys, ok := values["self"+bench.SysSuffix]; !ok || sys > after {
		t.Errorf("self system time %g (present %v), total %g", sys, ok, after)
	}
	if _, ok := values["sleep"]; !ok {
		t.Errorf("child process sleep not probed: %v", values)
	}
	children, err := bench.Children()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(children, func(c bench.Child) bool { return c.PID == child.Process.Pid }) {
		t.Errorf("children %v lack pid %d", children, child.Process.Pid)
	}
}

func TestDescribeMachine(t *testing.T) {
	m := bench.DescribeMachine()
	if m.CPUs < 1 || m.GoVersion == "" {
		t.Errorf("machine %+v", m)
	}
	load, err := bench.ReadLoadAvg()
	if err != nil {
		t.Fatal(err)
	}
	if load[0] < 0 {
		t.Errorf("load %v", load)
	}
}

func TestReportSaveLoad(t *testing.T) {
	dir := t.TempDir()
	r := bench.NewReport("train", "go run x")
	r.Add("nan row", math.NaN(), "x", "")
	r.AddRounds("rounds", []float64{3, 1, 2}, "images/s", "note")
	r.Finish()
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	inf := bench.NewReport("inference", "")
	inf.Finish()
	if err := inf.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := bench.LoadReports(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Part != "inference" || got[1].Part != "train" {
		t.Fatalf("loaded %d reports in order %v", len(got), parts(got))
	}
	rows := got[1].Rows
	if rows[0].Value != 0 || !strings.HasPrefix(rows[0].Note, "no data") {
		t.Errorf("NaN row stored as %+v", rows[0])
	}
	if rows[1].Value != 2 || rows[1].Lo != 1 || rows[1].Hi != 3 {
		t.Errorf("rounds row %+v, want median 2 in 1..3", rows[1])
	}
	var sb strings.Builder
	if err := got[1].WriteTable(&sb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "1.00 .. 3.00") {
		t.Errorf("table lacks the range:\n%s", sb.String())
	}
	if _, err := bench.LoadReports(filepath.Join(dir, "none")); err == nil {
		t.Error("LoadReports of an empty directory succeeded")
	}
}

func parts(rs []*bench.Report) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Part)
	}
	return out
}

// TestMatMulModelComputesProduct runs the hand-written ONNX MatMul graph in ONNX Runtime and checks it against
// a naive product.
func TestMatMulModelComputesProduct(t *testing.T) {
	lib, err := inference.ResolveLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inference.Open(lib); err != nil {
		t.Fatal(err)
	}
	const m, k, n = 3, 4, 5
	mm, err := bench.NewMatMul(m, k, n, bench.MatMulOptions{IntraOpThreads: 1, NoSpinning: true}, 7)
	if err != nil {
		t.Fatal(err)
	}
	defer mm.Close()
	if err := mm.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, b := mm.Inputs()
	c := mm.Output()
	for i := range m {
		for j := range n {
			var want float32
			for p := range k {
				want += a[i*k+p] * b[p*n+j]
			}
			if d := math.Abs(float64(c[i*n+j] - want)); d > 1e-5 {
				t.Errorf("c[%d,%d] = %g, want %g", i, j, c[i*n+j], want)
			}
		}
	}
	if mm.FLOPs() != 2*m*k*n {
		t.Errorf("FLOPs %g", mm.FLOPs())
	}
	if _, err := bench.NewMatMul(0, 1, 1, bench.MatMulOptions{}, 1); err == nil {
		t.Error("NewMatMul accepted a zero dimension")
	}
}
