package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/pipeline"
)

// serveFlags are the flags of vitseg serve.
type serveFlags struct {
	httpAddr       string
	events         eventTopicFlags // --kafka-brokers, the result and dead-letter topics, Kafka security
	group          string
	inputTopic     string
	sessionTimeout time.Duration
	allow          consumer.AllowList
	outBucket      string
	outPrefix      string
	modelFile      string
	reg            registryFlags
	regPoll        time.Duration
	maxBatch       int
	maxWait        time.Duration
	latencyTarget  time.Duration
	fetchWorkers   int
	decodeWorkers  int
	writeWorkers   int
	queue          int
	lim            limitFlags
	drain          time.Duration
	retryBudget    int
	maxAttempts    int
	maxAge         time.Duration
	orient         *bool
	lifecycle      lifecycleFlags
	s3             objstore.Config
	rt             runtimeFlags
	sf             sessionFlags
	lf             logFlags
}

// parseServeFlags defines the flags of vitseg serve and parses args.
func parseServeFlags(args []string, stderr io.Writer) (*serveFlags, error) {
	fs := newFlagSet("serve", "serve --allow BUCKET[/PREFIX],... (--registry-bucket BUCKET | --model FILE.onnx) [flags]", stderr)
	var f serveFlags
	f.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if f.allow.Len() == 0 {
		return nil, usagef("--allow is required: the buckets (or bucket/prefix) the pipeline may read")
	}
	if f.modelFile == "" && f.reg.bucket == "" {
		return nil, usagef("give --model FILE.onnx or --registry-bucket BUCKET")
	}
	if err := f.lifecycle.validate(); err != nil {
		return nil, err
	}
	if f.lifecycle.cfg.LabelsPrefix != "" && (f.reg.bucket == "" || f.modelFile != "") {
		return nil, usagef("--labels-prefix needs the model lifecycle: --registry-bucket, without --model")
	}
	return &f, nil
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	def := pipeline.DefaultConfig()
	fs.StringVar(&f.httpAddr, "http-addr", ":8080", "address of /metrics, /healthz and /readyz")
	f.events.registerResults(fs)
	fs.StringVar(&f.group, "kafka-group", "vitseg", "consumer group")
	registerInputTopic(fs, &f.inputTopic, "topic of image references (MinIO notifications or JSON refs)")
	fs.DurationVar(&f.sessionTimeout, "kafka-session-timeout", consumer.DefaultSessionTimeout,
		fmt.Sprintf("consumer group session timeout (>= %v)", consumer.MinSessionTimeout))
	fs.Var(&f.allow, "allow", "allowed sources: bucket or bucket/prefix, comma-separated (required)")
	fs.StringVar(&f.outBucket, "output-bucket", "", "bucket for mask PNGs (default: the source object's bucket)")
	fs.StringVar(&f.outPrefix, "output-prefix", def.OutputPrefix, "key prefix for mask PNGs (never processed as input)")
	fs.StringVar(&f.modelFile, "model", "", "serve this ONNX file (no hot reload; takes precedence over the registry)")
	f.reg.registerLocation(fs, "serve the registry's current version and hot-reload it")
	fs.DurationVar(&f.regPoll, "registry-poll", 30*time.Second, "how often the registry pointer is checked")
	fs.IntVar(&f.maxBatch, "max-batch", def.MaxBatch, "dynamic batcher: most images per inference")
	fs.DurationVar(&f.maxWait, "max-wait", def.MaxWait, "dynamic batcher: longest wait to fill a batch")
	fs.DurationVar(&f.latencyTarget, "latency-target", 0, "p99 latency from fetch to event the batcher keeps, choosing each batch's size (up to --max-batch) and wait from the inference times and arrival rate it measures (0: the fixed window of --max-batch and --max-wait)")
	fs.IntVar(&f.fetchWorkers, "fetch-workers", def.FetchWorkers, "concurrent S3 downloads")
	fs.IntVar(&f.decodeWorkers, "decode-workers", 0, "concurrent image decoders (0: from the CPU count, see docs/SCALING.md)")
	fs.IntVar(&f.writeWorkers, "write-workers", def.WriteWorkers, "concurrent mask uploads and event writes")
	fs.IntVar(&f.queue, "queue-size", def.QueueSize, "capacity of each queue between stages (backpressure)")
	f.lim.register(fs, "objects")
	fs.DurationVar(&f.drain, "drain-timeout", def.DrainTimeout, "graceful shutdown: longest wait for in-flight work")
	fs.IntVar(&f.retryBudget, "retry-budget", def.RetryBudget, "failed attempts of one image's S3 or Kafka call tolerated while the same call succeeds for others (then dead-lettered as retries_exhausted; outages are waited out); 0: the default; negative: no bound")
	fs.IntVar(&f.maxAttempts, "max-attempts", def.MaxAttempts, "dead-letter a reference as attempts_exhausted once replayed beyond this many attempts")
	fs.DurationVar(&f.maxAge, "max-age", 0, "dead-letter references older than this (Kafka timestamp) as expired (0: off)")
	f.orient = exifOrientationFlag(fs)
	f.lifecycle.register(fs)
	f.s3.RegisterFlags(fs)
	f.rt.register(fs)
	f.sf.register(fs, false)
	f.lf.register(fs, "json")
}

// pipelineConfig is the pipeline's configuration from the flags.
func (f *serveFlags) pipelineConfig() pipeline.Config {
	return pipeline.Config{Allow: f.allow, OutputBucket: f.outBucket, OutputPrefix: f.outPrefix, MaxBatch: f.maxBatch,
		MaxWait: f.maxWait, LatencyTarget: f.latencyTarget, FetchWorkers: f.fetchWorkers, DecodeWorkers: f.decodeWorkers, WriteWorkers: f.writeWorkers,
		QueueSize: f.queue, Limits: f.lim.limits(), DrainTimeout: f.drain,
		RetryBudget: f.retryBudget,
		MaxAttempts: f.maxAttempts, MaxAge: f.maxAge,
		IgnoreOrientation: !*f.orient,
		Lifecycle:         f.lifecycle.cfg,
	}
}
