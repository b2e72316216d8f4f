package pipeline

// AutoThreads splits cpus cores between ONNX Runtime's intra-op threads and the decode workers, for settings
// left at 0. On CPU the model gets every core but the decoders' share: decode + resize cost about a quarter of
// the small model's CPU per image after the decode work of docs/PERFORMANCE.md §3, so one decode worker per
// four cores (at least one) keeps the model fed, and on 2 cores the model runs on one thread, which measured
// faster in the pipeline than two (the second thread competes with decoding). With the model on a GPU the CPU
// threads of ONNX Runtime matter little and every core decodes.
func AutoThreads(cpus int, gpu bool) (intraOp, decodeWorkers int) {
	cpus = max(cpus, 1)
	if gpu {
		return 1, cpus
	}
	decodeWorkers = max(1, (cpus+3)/4)
	return max(1, cpus-decodeWorkers), decodeWorkers
}
