// Package bench holds vitseg's performance measurements: an interleaving runner that measures a baseline and its
// candidates in alternating rounds of the same run (the machine is shared, so only side-by-side ratios are
// trustworthy), a one-MatMul ONNX model that gives the machine's practical GEMM ceiling under ONNX Runtime,
// process CPU accounting from procfs, and the reports that scripts/bench.sh prints and docs/PERFORMANCE.md quotes.
//
// The measurements themselves live in the command bench/cmd/vitseg-bench (inference and training) and in
// BenchmarkPipelineVsModel of package pipeline (end to end through Kafka and MinIO). Speed targets are checked
// by these benchmarks, never by timed unit tests.
package bench
