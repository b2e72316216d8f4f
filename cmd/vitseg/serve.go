package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/segmentio/kafka-go"
	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/pipeline"
	"github.com/vitseg/vitseg/producer"
)

func runServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve --allow BUCKET[/PREFIX],... (--registry-bucket BUCKET | --model FILE.onnx) [flags]", stderr)
	def := pipeline.DefaultConfig()
	httpAddr := fs.String("http-addr", ":8080", "address of /metrics, /healthz and /readyz")
	var events eventTopicFlags // --kafka-brokers, the result and dead-letter topics, Kafka security
	events.registerResults(fs)
	group := fs.String("kafka-group", "vitseg", "consumer group")
	var inputTopic string
	registerInputTopic(fs, &inputTopic, "topic of image references (MinIO notifications or JSON refs)")
	sessionTimeout := fs.Duration("kafka-session-timeout", consumer.DefaultSessionTimeout,
		fmt.Sprintf("consumer group session timeout (>= %v)", consumer.MinSessionTimeout))
	var allow consumer.AllowList
	fs.Var(&allow, "allow", "allowed sources: bucket or bucket/prefix, comma-separated (required)")
	outBucket := fs.String("output-bucket", "", "bucket for mask PNGs (default: the source object's bucket)")
	outPrefix := fs.String("output-prefix", def.OutputPrefix, "key prefix for mask PNGs (never processed as input)")
	modelFile := fs.String("model", "", "serve this ONNX file (no hot reload; takes precedence over the registry)")
	var reg registryFlags
	reg.registerLocation(fs, "serve the registry's current version and hot-reload it")
	regPoll := fs.Duration("registry-poll", 30*time.Second, "how often the registry pointer is checked")
	maxBatch := fs.Int("max-batch", def.MaxBatch, "dynamic batcher: most images per inference")
	maxWait := fs.Duration("max-wait", def.MaxWait, "dynamic batcher: longest wait to fill a batch")
	fetchWorkers := fs.Int("fetch-workers", def.FetchWorkers, "concurrent S3 downloads")
	decodeWorkers := fs.Int("decode-workers", 0, "concurrent image decoders (0: from the CPU count, see docs/SCALING.md)")
	writeWorkers := fs.Int("write-workers", def.WriteWorkers, "concurrent mask uploads and event writes")
	queue := fs.Int("queue-size", def.QueueSize, "capacity of each queue between stages (backpressure)")
	var lim limitFlags
	lim.register(fs, "objects")
	drain := fs.Duration("drain-timeout", def.DrainTimeout, "graceful shutdown: longest wait for in-flight work")
	retryBudget := fs.Int("retry-budget", def.RetryBudget, "failed attempts of one image's S3 or Kafka call tolerated while the same call succeeds for others (then dead-lettered as retries_exhausted; outages are waited out); 0: the default; negative: no bound")
	maxAttempts := fs.Int("max-attempts", def.MaxAttempts, "dead-letter a reference as attempts_exhausted once replayed beyond this many attempts")
	maxAge := fs.Duration("max-age", 0, "dead-letter references older than this (Kafka timestamp) as expired (0: off)")
	orient := exifOrientationFlag(fs)
	var s3 objstore.Config
	var rt runtimeFlags
	var sf sessionFlags
	var lf logFlags
	s3.RegisterFlags(fs)
	rt.register(fs)
	sf.register(fs, false)
	lf.register(fs, "json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if allow.Len() == 0 {
		return usagef("--allow is required: the buckets (or bucket/prefix) the pipeline may read")
	}
	if *modelFile == "" && reg.bucket == "" {
		return usagef("give --model FILE.onnx or --registry-bucket BUCKET")
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck
	tracing, flushSpans, err := startTracing(ctx, log)
	if err != nil {
		return err
	}
	defer flushSpans()
	filter, err := consumer.NewFilter(allow, *outBucket, *outPrefix)
	if err != nil {
		return usageError{err.Error()}
	}
	runtime, err := rt.open()
	if err != nil {
		return err
	}
	sessOpts, err := sf.options(runtime, log)
	if err != nil {
		return err
	}
	s3.MaxRetries = 1 // The pipeline owns the retries of its S3 calls (one backoff, the retry budget).
	autoSize(&sessOpts, decodeWorkers, log)
	client, err := objstore.New(s3)
	if err != nil {
		return err
	}
	brokerList := splitList(events.brokers)
	reader, err := consumer.NewReader(consumer.ReaderConfig{Brokers: brokerList, GroupID: *group, Topic: inputTopic,
		Security: events.ksec, SessionTimeout: *sessionTimeout, Logger: log})
	if err != nil {
		return err
	}
	defer reader.Close()
	writer, err := producer.NewWriter(producer.WriterConfig{Brokers: brokerList, ResultTopic: events.resultTopic,
		DeadLetterTopic: events.dlqTopic, Security: events.ksec, Logger: log, MaxAttempts: 1, // The pipeline retries.
		EventSource: "/vitseg/groups/" + url.PathEscape(*group)})
	if err != nil {
		return err
	}
	defer writer.Close()
	dialer, err := events.ksec.Dialer("vitseg-probe", 3*time.Second)
	if err != nil {
		return err
	}
	models, err := serveModelSource(*modelFile, *regPoll, reg, s3, log)
	if err != nil {
		return err
	}
	p, err := pipeline.New(pipeline.Config{OutputBucket: *outBucket, OutputPrefix: *outPrefix, MaxBatch: *maxBatch,
		MaxWait: *maxWait, FetchWorkers: *fetchWorkers, DecodeWorkers: *decodeWorkers, WriteWorkers: *writeWorkers,
		QueueSize: *queue, Limits: lim.limits(), DrainTimeout: *drain,
		RetryBudget: *retryBudget,
		MaxAttempts: *maxAttempts, MaxAge: *maxAge,
		IgnoreOrientation: !*orient,
	}, pipeline.Deps{Reader: reader, Writer: writer, Store: pipeline.NewS3Store(client), Filter: filter, Runtime: runtime, Session: sessOpts,
		Models: models, Logger: log, Tracing: tracing, KafkaProbe: dialProbe(dialer, brokerList[0])})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *httpAddr, err)
	}
	stopHTTP := serveHTTP(ln, p.Handler(), log)
	log.Info("serving", zap.String("http", ln.Addr().String()), zap.Strings("brokers", brokerList),
		zap.String("input_topic", inputTopic), zap.Stringer("allow", &allow), zap.Object("s3", s3),
		zap.String("ort", runtime.Version()))
	runErr := p.Run(ctx)
	stopHTTP()
	log.Info("stopped", zap.Error(runErr))
	return runErr
}

// serveModelSource is the model file, or else the registry to follow. The registry has no retry loop of its
// own: its client retries each request (minio-go's default, 10), unlike the pipeline's S3 client.
func serveModelSource(file string, poll time.Duration, reg registryFlags, s3 objstore.Config, log *zap.Logger) (pipeline.ModelSource, error) {
	models := pipeline.ModelSource{File: file, PollInterval: poll}
	if file != "" {
		if reg.bucket != "" {
			log.Info("serving the model file; the registry is not watched", zap.String("model", file))
		}
		return models, nil
	}
	s3.MaxRetries = 10
	client, err := objstore.New(s3)
	if err != nil {
		return models, err
	}
	models.Registry = registry.New(client, reg.bucket, reg.name, registry.WithLogger(log))
	return models, nil
}

// dialProbe is the Kafka readiness probe: can a connection to broker be opened?
func dialProbe(dialer *kafka.Dialer, broker string) func(context.Context) error {
	return func(ctx context.Context) error {
		conn, err := dialer.DialContext(ctx, "tcp", broker)
		if err != nil {
			return err
		}
		return conn.Close()
	}
}

// serveHTTP serves handler on ln until the returned stop is called (which waits up to 5 s for requests).
func serveHTTP(ln net.Listener, handler http.Handler, log *zap.Logger) (stop func()) {
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server stopped", zap.Error(err))
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("HTTP shutdown", zap.Error(err))
		}
	}
}
