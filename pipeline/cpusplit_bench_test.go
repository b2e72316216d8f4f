package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/vitseg/vitseg/bench"
)

// benchLabel is the pprof label key that tells the benchmark's goroutines apart in its CPU profile: each
// pipeline's goroutines carry "pipeline GROUP", the result collector's "collector", the reference producer's
// "driver". Goroutines inherit labels when started, so kafka-go's and net/http's helper goroutines carry the
// label of the goroutine that started them; the Go runtime's own (GC workers) carry none.
const benchLabel = "vitseg.bench"

// pipelineLabel is the benchLabel value of the goroutines of the pipeline of consumer group group.
func pipelineLabel(group string) string { return "pipeline " + group }

// withBenchLabel returns ctx labelled value under benchLabel.
func withBenchLabel(ctx context.Context, value string) context.Context {
	return pprof.WithLabels(ctx, pprof.Labels(benchLabel, value))
}

// cpuStage is one row of the CPU split of a pipeline: the samples whose stack contains any of frames. model
// marks the work the bare-model reference does too.
type cpuStage struct {
	name   string
	frames []string
	model  bool
}

// cpuStages returns the rows of the split, most specific first: a sample counts for the first stage one of
// whose frames its stack contains; bookkeeping takes the rest. Threads that C code started (ONNX Runtime's
// intra-op pools) have no Go stack: the profile shows them as runtime._ExternalCode.
func cpuStages() []cpuStage {
	return []cpuStage{
		{name: "model (ONNX Runtime Run)", frames: []string{"inference.(*Session).Logits"}, model: true},
		{name: "ONNX Runtime pool threads (any session's)", frames: []string{"runtime._ExternalCode"}, model: true},
		{name: "post-process (mask at full size, stats)", frames: []string{"inference.(*Session).Postprocess"}, model: true},
		{name: "mask PNG", frames: []string{"imaging.(*MaskEncoder).Encode"}},
		{name: "resize to the tensor", frames: []string{"imaging.ToTensor"}},
		{name: "decode", frames: []string{"imaging.DecodeWith"}},
		{name: "S3 GET (minio-go, in the fetch stage)",
			frames: []string{"(*Pipeline).getObject", "minio-go/v7.(*Client).GetObject", "minio-go/v7.(*Object)"}},
		{name: "S3 PUT (minio-go, in the write stage)", frames: []string{"(*Pipeline).putMask"}},
		{name: "S3 connections (net/http transport goroutines)",
			frames: []string{"net/http.(*persistConn)", "net/http.(*Transport)"}},
		{name: "Kafka produce (result events)", frames: []string{"(*Pipeline).publishResult", "kafka-go.(*Writer)",
			"kafka-go.(*partitionWriter)", "kafka-go.(*writeBatch)"}},
		{name: "Kafka fetch and commit (kafka-go reader)", frames: []string{"segmentio/kafka-go", "vitseg/consumer."}},
		{name: "GC (background workers)",
			frames: []string{"runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge"}},
	}
}

// bookkeeping is the stage of samples no cpuStages row claims.
const bookkeeping = "bookkeeping (scheduler, batcher, commits, metrics)"

// stageOf returns the stage of a sample whose stack holds funcs (function names, any order).
func stageOf(funcs []string) string {
	for _, st := range cpuStages() {
		for _, f := range funcs {
			for _, frame := range st.frames {
				if strings.Contains(f, frame) {
					return st.name
				}
			}
		}
	}
	return bookkeeping
}

// cpuSplit is a pipeline's CPU time by stage from a CPU profile.
type cpuSplit struct {
	byStage map[string]float64 // seconds
	other   float64            // seconds of the benchmark's other goroutines (collector, driver, idle pipelines)
}

// splitProfile reads the CPU profile at path and splits the samples of the pipeline labelled label, and the
// unlabelled ones (the runtime's, spent for the whole process), by stage.
func splitProfile(path, label string) (cpuSplit, error) {
	f, err := os.Open(path)
	if err != nil {
		return cpuSplit{}, err
	}
	defer f.Close()
	prof, err := profile.Parse(f)
	if err != nil {
		return cpuSplit{}, fmt.Errorf("parse %s: %w", path, err)
	}
	cpu := -1
	for i, st := range prof.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			cpu = i
		}
	}
	if cpu < 0 {
		return cpuSplit{}, fmt.Errorf("%s: no cpu/nanoseconds samples", path)
	}
	split := cpuSplit{byStage: map[string]float64{}}
	for _, s := range prof.Sample {
		secs := float64(s.Value[cpu]) / 1e9
		if l := s.Label[benchLabel]; len(l) > 0 && l[0] != label {
			split.other += secs
			continue
		}
		var funcs []string
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if line.Function != nil {
					funcs = append(funcs, line.Function.Name)
				}
			}
		}
		split.byStage[stageOf(funcs)] += secs
	}
	return split, nil
}

// addCPUSplit adds split's rows to rep, per image of images: each stage, then the pipeline beside the model
// (all but the model's Run and its post-processing, which the bare-model reference also does).
func addCPUSplit(rep *bench.Report, split cpuSplit, images int) {
	per := func(secs float64) float64 { return 1000 * secs / float64(images) }
	var total, model float64
	for _, st := range append(cpuStages(), cpuStage{name: bookkeeping}) {
		secs := split.byStage[st.name]
		total += secs
		if st.model {
			model += secs
		}
		rep.Add("profile: "+st.name, per(secs), "CPU-ms/image", "")
	}
	rep.Add("profile: pipeline beside the model", per(total-model), "CPU-ms/image",
		"the pipeline's samples but the model's (Run, pool threads) and post-processing's, the reference's work; goal <= 2.0")
	rep.Add("profile: the benchmark's own goroutines", per(split.other), "CPU-ms/image",
		"result collector, reference producer, idle pipelines: not counted above")
}
