package main

import (
	"runtime"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/pipeline"
)

// autoSize fills in the ONNX Runtime intra-op threads and the decode workers left at 0 from the cores this
// process may use (GOMAXPROCS, which follows the container's CPU limit), with pipeline.AutoThreads.
func autoSize(opts *inference.Options, decodeWorkers *int, log *zap.Logger) {
	cpus := runtime.GOMAXPROCS(0)
	intra, workers := pipeline.AutoThreads(cpus, opts.Device == inference.DeviceCUDA)
	if opts.IntraOpThreads == 0 {
		opts.IntraOpThreads = intra
	}
	if *decodeWorkers == 0 {
		*decodeWorkers = workers
	}
	log.Info("threads", zap.Int("cpus", cpus), zap.Int("intra_op_threads", opts.IntraOpThreads),
		zap.Int("decode_workers", *decodeWorkers))
}
