package main

import (
	"fmt"
	"io"
	"time"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/pipeline"
)

// serveFlags are the flags of vitseg serve; the pipeline registers its own (pipeline.Config.RegisterFlags).
type serveFlags struct {
	httpAddr       string
	events         eventTopicFlags // --kafka-brokers, the result and dead-letter topics, Kafka security
	group          string
	inputTopic     string
	sessionTimeout time.Duration
	modelFile      string
	reg            registryFlags
	regPoll        time.Duration
	cfg            pipeline.Config
	s3             objstore.Config
	rt             runtimeFlags
	sf             sessionFlags
	lf             logFlags
}

// parseServeFlags defines the flags of vitseg serve and parses args.
func parseServeFlags(args []string, stderr io.Writer) (*serveFlags, error) {
	fs := newFlagSet("serve", "serve --allow BUCKET[/PREFIX],... (--registry-bucket BUCKET | --model FILE.onnx) [flags]", stderr)
	var f serveFlags
	fs.StringVar(&f.httpAddr, "http-addr", ":8080", "address of /metrics, /healthz and /readyz")
	f.events.registerResults(fs)
	fs.StringVar(&f.group, "kafka-group", "vitseg", "consumer group")
	registerInputTopic(fs, &f.inputTopic, "topic of image references (MinIO notifications or JSON refs)")
	fs.DurationVar(&f.sessionTimeout, "kafka-session-timeout", consumer.DefaultSessionTimeout,
		fmt.Sprintf("consumer group session timeout (>= %v)", consumer.MinSessionTimeout))
	fs.StringVar(&f.modelFile, "model", "", "serve this ONNX file (no hot reload; takes precedence over the registry)")
	f.reg.registerLocation(fs, "serve the registry's current version and hot-reload it")
	fs.DurationVar(&f.regPoll, "registry-poll", 30*time.Second, "how often the registry pointer is checked")
	f.cfg.RegisterFlags(fs)
	f.s3.RegisterFlags(fs)
	f.rt.register(fs)
	f.sf.register(fs, false)
	f.lf.register(fs, "json")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if f.cfg.Allow.Len() == 0 {
		return nil, usagef("--allow is required: the buckets (or bucket/prefix) the pipeline may read")
	}
	if f.modelFile == "" && f.reg.bucket == "" {
		return nil, usagef("give --model FILE.onnx or --registry-bucket BUCKET")
	}
	if err := f.cfg.Lifecycle.Validate(); err != nil {
		return nil, usageError{err.Error()}
	}
	if f.cfg.Lifecycle.LabelsPrefix != "" && (f.reg.bucket == "" || f.modelFile != "") {
		return nil, usagef("--labels-prefix needs the model lifecycle: --registry-bucket, without --model")
	}
	return &f, nil
}
