package inference

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// OpTime is the time ONNX Runtime spent in one operator type over the runs of a profiled session.
type OpTime struct {
	OpType string
	Nodes  int           // nodes of this type timed per run
	PerRun time.Duration // their kernel time per run, averaged over the runs
	Share  float64       // of all operators' kernel time
}

// traceEvent is the part of an event of ONNX Runtime's profiling trace that OpProfile reads.
type traceEvent struct {
	Category string `json:"cat"`
	Name     string `json:"name"`
	Duration int64  `json:"dur"` // microseconds
	Args     struct {
		OpName string `json:"op_name"`
	} `json:"args"`
}

// OpProfile reads the trace a session loaded with Options.ProfilePrefix wrote when it closed, and sums its
// operators' kernel times by operator type, per run, largest first.
func OpProfile(path string) ([]OpTime, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the profile: %w", err)
	}
	var events []traceEvent
	if err := json.Unmarshal(b, &events); err != nil {
		return nil, fmt.Errorf("decode the profile %s: %w", path, err)
	}
	runs := 0
	kernel := map[string]int64{}
	nodes := map[string]int{}
	var total int64
	for _, e := range events {
		switch {
		case e.Category == "Session" && e.Name == "model_run":
			runs++
		case e.Category == "Node" && strings.HasSuffix(e.Name, "_kernel_time"):
			kernel[e.Args.OpName] += e.Duration
			nodes[e.Args.OpName]++
			total += e.Duration
		}
	}
	if runs == 0 || total == 0 {
		return nil, fmt.Errorf("profile %s: no timed runs", path)
	}
	out := make([]OpTime, 0, len(kernel))
	for op, us := range kernel {
		out = append(out, OpTime{OpType: op, Nodes: nodes[op] / runs,
			PerRun: time.Duration(us/int64(runs)) * time.Microsecond, Share: float64(us) / float64(total)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].PerRun != out[j].PerRun {
			return out[i].PerRun > out[j].PerRun
		}
		return out[i].OpType < out[j].OpType
	})
	return out, nil
}
