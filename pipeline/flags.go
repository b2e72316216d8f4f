package pipeline

import (
	"flag"

	"github.com/vitseg/vitseg/model/imaging"
)

// RegisterFlags registers the flags of vitseg serve that configure the pipeline on fs, bound to c, with the
// values of DefaultConfig as their defaults except --decode-workers (0: the caller sizes them from the CPU count,
// see AutoThreads) and --latency-target and --max-age (0: off); the lifecycle's flags are
// LifecycleConfig.RegisterFlags'.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	def := DefaultConfig()
	fs.Var(&c.Allow, "allow", "allowed sources: bucket or bucket/prefix, comma-separated (required)")
	fs.StringVar(&c.OutputBucket, "output-bucket", "", "bucket for mask PNGs (default: the source object's bucket)")
	fs.StringVar(&c.OutputPrefix, "output-prefix", def.OutputPrefix, "key prefix for mask PNGs (never processed as input)")
	fs.IntVar(&c.MaxBatch, "max-batch", def.MaxBatch, "dynamic batcher: most images per inference")
	fs.DurationVar(&c.MaxWait, "max-wait", def.MaxWait, "dynamic batcher: longest wait to fill a batch")
	fs.DurationVar(&c.LatencyTarget, "latency-target", 0, "p99 latency from fetch to event the batcher keeps, choosing each batch's size (up to --max-batch) and wait from the inference times and arrival rate it measures (0: the fixed window of --max-batch and --max-wait)")
	fs.IntVar(&c.FetchWorkers, "fetch-workers", def.FetchWorkers, "concurrent S3 downloads")
	fs.IntVar(&c.DecodeWorkers, "decode-workers", 0, "concurrent image decoders (0: from the CPU count, see docs/SCALING.md)")
	fs.IntVar(&c.WriteWorkers, "write-workers", def.WriteWorkers, "concurrent mask uploads and event writes")
	fs.IntVar(&c.QueueSize, "queue-size", def.QueueSize, "capacity of each queue between stages (backpressure)")
	c.Limits.RegisterFlags(fs, "objects")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", def.DrainTimeout, "graceful shutdown: longest wait for in-flight work")
	fs.IntVar(&c.RetryBudget, "retry-budget", def.RetryBudget, "failed attempts of one image's S3 or Kafka call tolerated while the same call succeeds for others (then dead-lettered as retries_exhausted; outages are waited out); 0: the default; negative: no bound")
	fs.IntVar(&c.MaxAttempts, "max-attempts", def.MaxAttempts, "dead-letter a reference as attempts_exhausted once replayed beyond this many attempts")
	fs.DurationVar(&c.MaxAge, "max-age", 0, "dead-letter references older than this (Kafka timestamp) as expired (0: off)")
	imaging.RegisterOrientationFlag(fs, &c.IgnoreOrientation)
	c.Lifecycle.RegisterFlags(fs)
}

// OutputBuckets are the buckets masks are written to: OutputBucket, else the allowed source buckets.
func (c Config) OutputBuckets() []string {
	if c.OutputBucket != "" {
		return []string{c.OutputBucket}
	}
	return c.Allow.Buckets()
}
