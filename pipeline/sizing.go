package pipeline

import (
	"runtime"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model/inference"
)

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

// AutoSize fills in the ONNX Runtime intra-op threads of opts and the decode workers of c left at 0 from the
// cores this process may use (GOMAXPROCS, which follows the container's CPU limit), with AutoThreads, and logs
// the sizes.
func (c *Config) AutoSize(opts *inference.Options, log *zap.Logger) {
	cpus := runtime.GOMAXPROCS(0)
	intra, workers := AutoThreads(cpus, opts.Device == inference.DeviceCUDA)
	if opts.IntraOpThreads == 0 {
		opts.IntraOpThreads = intra
	}
	if c.DecodeWorkers == 0 {
		c.DecodeWorkers = workers
	}
	log.Info("threads", zap.Int("cpus", cpus), zap.Int("intra_op_threads", opts.IntraOpThreads),
		zap.Int("decode_workers", c.DecodeWorkers))
}
