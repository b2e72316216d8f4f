package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/internal/telemetry"
	"github.com/vitseg/vitseg/kafkaconn"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/pipeline"
	"github.com/vitseg/vitseg/producer"
)

func runServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := f.lf.logger(stderr)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck
	tracing, flushSpans, err := telemetry.Start(ctx, version, log)
	if err != nil {
		return err
	}
	defer flushSpans()
	runtime, sessOpts, err := f.session(log)
	if err != nil {
		return err
	}
	f.s3.MaxRetries = 1 // The pipeline owns the retries of its S3 calls (one backoff, the retry budget).
	client, err := objstore.New(f.s3)
	if err != nil {
		return err
	}
	if err := pipeline.CheckOutputBuckets(ctx, client, f.cfg.OutputBuckets(), log); err != nil {
		return err
	}
	k, err := f.openKafka(log)
	if err != nil {
		return err
	}
	defer k.close()
	models, err := serveModelSource(f.modelFile, f.regPoll, f.reg, f.s3, log)
	if err != nil {
		return err
	}
	p, err := pipeline.New(f.cfg, pipeline.Deps{Reader: k.reader, Writer: k.writer,
		Store: pipeline.NewS3Store(client), Runtime: runtime, Session: sessOpts,
		Models: models, Logger: log, Tracing: tracing, KafkaProbe: k.probe})
	if errors.Is(err, consumer.ErrInvalidAllowList) {
		return usageError{err.Error()}
	}
	if err != nil {
		return err
	}
	return f.serve(ctx, p, runtime, log)
}

// session opens ONNX Runtime and decides the session options, sizing the threads and decoders from the CPU
// count where the flags leave them at 0.
func (f *serveFlags) session(log *zap.Logger) (*inference.Runtime, inference.Options, error) {
	runtime, err := f.rt.open()
	if err != nil {
		return nil, inference.Options{}, err
	}
	opts, err := f.sf.options(runtime, log)
	if err != nil {
		return nil, opts, err
	}
	f.cfg.AutoSize(&opts, log)
	return runtime, opts, nil
}

// serveKafka is serve's Kafka side: the reader of image references, the writer of events and the readiness probe.
type serveKafka struct {
	reader *consumer.Reader
	writer *producer.Writer
	probe  func(context.Context) error
}

// openKafka creates the reader, the writer and the probe; close closes the reader and the writer.
func (f *serveFlags) openKafka(log *zap.Logger) (*serveKafka, error) {
	brokers := envflag.List(f.events.brokers)
	reader, err := consumer.NewReader(consumer.ReaderConfig{Brokers: brokers, GroupID: f.group, Topic: f.inputTopic,
		Security: f.events.ksec, SessionTimeout: f.sessionTimeout, Logger: log})
	if err != nil {
		return nil, err
	}
	writer, err := producer.NewWriter(producer.WriterConfig{Brokers: brokers, ResultTopic: f.events.resultTopic,
		DeadLetterTopic: f.events.dlqTopic, Security: f.events.ksec, Logger: log,
		EventSource: "/vitseg/groups/" + url.PathEscape(f.group)})
	if err != nil {
		reader.Close()
		return nil, err
	}
	k := &serveKafka{reader: reader, writer: writer}
	dialer, err := f.events.ksec.Dialer("vitseg-probe", 3*time.Second)
	if err != nil {
		k.close()
		return nil, err
	}
	k.probe = kafkaconn.Cluster{Brokers: brokers, Dialer: dialer}.Probe
	return k, nil
}

func (k *serveKafka) close() {
	k.writer.Close()
	k.reader.Close()
}

// serve serves the HTTP endpoints while p runs, until ctx ends or p fails.
func (f *serveFlags) serve(ctx context.Context, p *pipeline.Pipeline, runtime *inference.Runtime, log *zap.Logger) error {
	ln, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.httpAddr, err)
	}
	log.Info("serving", zap.String("http", ln.Addr().String()), zap.Strings("brokers", envflag.List(f.events.brokers)),
		zap.String("input_topic", f.inputTopic), zap.Stringer("allow", &f.cfg.Allow), zap.Object("s3", f.s3),
		zap.String("ort", runtime.Version()))
	runErr := p.Serve(ctx, ln)
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
