package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/notification"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/pipeline"
	"github.com/vitseg/vitseg/producer"
)

// Object prefixes of the pipeline benchmark: capacity rounds reference pre-uploaded objects by JSON messages;
// the latency phase uploads objects whose MinIO notifications feed the input topic, as in production.
const (
	benchCapPrefix = "cap/"
	benchLatPrefix = "lat/"
)

// pipelineBenchSettings are read from the environment (go test passes no flags to a benchmark easily).
type pipelineBenchSettings struct {
	// VITSEG_BENCH_MODEL: the ONNX model measured; default the shipped model (model/zoo/small), which serve runs
	// by default, unless VITSEG_BENCH_PRESET asks for a randomly initialised preset.
	model    string
	preset   string        // VITSEG_BENCH_PRESET, default small
	rounds   int           // VITSEG_BENCH_ROUNDS, default 3
	images   int           // VITSEG_BENCH_IMAGES: images per pipeline call, default 160
	minTime  time.Duration // VITSEG_BENCH_MIN_TIME: per case and slice, default 3s
	maxBatch int           // VITSEG_BENCH_MAX_BATCH: the batcher's size and the model baseline's, default 8
	// VITSEG_BENCH_THREADS: ONNX Runtime intra-op threads of the bare model; the first is the reference that
	// brackets every other case, the others are extra bare-model cases. Default: serve's (pipeline.AutoThreads
	// of this machine's cores), then every core.
	threads []int
	// VITSEG_BENCH_PIPELINE_THREADS: one pipeline per value, each with that many intra-op threads, measured side
	// by side (each on its own input topic and consumer group). The first, the headline, also runs the latency
	// phase and the profile. Default: serve's (as for the bare model; its decode workers too), then every core.
	pipeThreads []int
	// VITSEG_BENCH_PIPELINE_NOSPIN: 0/1 per pipeline of VITSEG_BENCH_PIPELINE_THREADS (missing: 0); 1 serves that
	// pipeline with ONNX Runtime's thread spinning off (inference.Options.DisableSpinning), as serve does by
	// default. Default 1,0: the headline runs serve's defaults, the extra row the spinning all-core setting.
	pipeNoSpin []bool
	// VITSEG_BENCH_PIPELINE_TRACING: 0/1 per pipeline (missing: 0); 1 traces that pipeline with the OpenTelemetry
	// SDK, exporting every span over OTLP/HTTP to a receiver in this process (see benchTracing).
	pipeTracing []bool
	photos      int           // VITSEG_BENCH_PHOTOS: distinct photos, default 16
	latencyTime time.Duration // VITSEG_BENCH_LATENCY_TIME: duration of the fixed-rate phase, default 20s
	out         string        // VITSEG_BENCH_OUT: directory for pipeline.json
	cpuProfile  string        // VITSEG_BENCH_CPUPROFILE: CPU profile of an extra run of the first pipeline alone
}

// modelBytes is the model the benchmarks measure: set.model, else a randomly initialised set.preset.
func (set pipelineBenchSettings) modelBytes(tb testing.TB) []byte {
	tb.Helper()
	if set.model == "" {
		return modeltest.Export(tb, set.preset, "v1", 1)
	}
	b, err := os.ReadFile(set.model)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// modelName names the measured model in the reports.
func (set pipelineBenchSettings) modelName() string {
	if set.model != "" {
		return set.model
	}
	return "preset " + set.preset + " (random weights)"
}

func readPipelineBenchSettings(tb testing.TB) pipelineBenchSettings {
	tb.Helper()
	serveThreads, _ := pipeline.AutoThreads(runtime.NumCPU(), false)
	threads := []int{serveThreads}
	if runtime.NumCPU() != serveThreads {
		threads = append(threads, runtime.NumCPU())
	}
	s := pipelineBenchSettings{preset: model.PresetSmall, rounds: 3, images: 160, minTime: 3 * time.Second,
		maxBatch: 8, threads: threads, pipeThreads: threads, pipeNoSpin: []bool{true, false}, photos: 16, latencyTime: 20 * time.Second,
		out: os.Getenv("VITSEG_BENCH_OUT"), cpuProfile: os.Getenv("VITSEG_BENCH_CPUPROFILE")}
	s.model = os.Getenv("VITSEG_BENCH_MODEL")
	if v := os.Getenv("VITSEG_BENCH_PRESET"); v != "" {
		s.preset = v
	} else if s.model == "" {
		s.model = filepath.Join("..", "model", "zoo", "small", "model.onnx")
	}
	positive := func(name, v string) int {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			tb.Fatalf("%s=%q: want positive integers", name, v)
		}
		return n
	}
	ints := map[string]*int{"VITSEG_BENCH_ROUNDS": &s.rounds, "VITSEG_BENCH_IMAGES": &s.images,
		"VITSEG_BENCH_MAX_BATCH": &s.maxBatch, "VITSEG_BENCH_PHOTOS": &s.photos}
	for name, p := range ints {
		if v := os.Getenv(name); v != "" {
			*p = positive(name, v)
		}
	}
	lists := map[string]*[]int{"VITSEG_BENCH_THREADS": &s.threads, "VITSEG_BENCH_PIPELINE_THREADS": &s.pipeThreads}
	for name, p := range lists {
		if v := os.Getenv(name); v != "" {
			*p = nil
			for _, f := range strings.Split(v, ",") {
				*p = append(*p, positive(name, f))
			}
		}
	}
	s.pipeTracing = benchFlags(os.Getenv("VITSEG_BENCH_PIPELINE_TRACING"))
	if v := os.Getenv("VITSEG_BENCH_PIPELINE_NOSPIN"); v != "" {
		s.pipeNoSpin = benchFlags(v)
	}
	durations := map[string]*time.Duration{"VITSEG_BENCH_MIN_TIME": &s.minTime, "VITSEG_BENCH_LATENCY_TIME": &s.latencyTime}
	for name, p := range durations {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				tb.Fatalf("%s=%q: want a positive duration", name, v)
			}
			*p = d
		}
	}
	return s
}

// BenchmarkPipelineVsModel measures end-to-end images/s through Kafka and MinIO (the pipeline in-process, with a
// real dev broker and MinIO server on loopback) against the bare model (inference.Session.Segment on
// pre-decoded images, batch MaxBatch), which brackets every pipeline measurement in the same run, and the CPU
// time per image of each (this process, MinIO, broker). Then it measures the end-to-end latency at a fixed upload
// rate of half the first pipeline's capacity. Run it once:
//
//	go test -tags onnx -run '^$' -bench PipelineVsModel -benchtime 1x ./pipeline
//
// Settings come from VITSEG_BENCH_* variables (see pipelineBenchSettings); scripts/bench.sh pipeline runs it.
func BenchmarkPipelineVsModel(b *testing.B) {
	set := readPipelineBenchSettings(b)
	for range b.N {
		runPipelineBench(b, set)
	}
}

func runPipelineBench(b *testing.B, set pipelineBenchSettings) {
	ctx := context.Background()
	rep := bench.NewReport("pipeline", "go test -tags onnx -run '^$' -bench PipelineVsModel -benchtime 1x ./pipeline")

	// Pipeline i reads topic inputs[i]; the latency phase's notifications go to inputs[0].
	inputs := []string{inputTopic}
	topics := []testenv.Topic{{Name: inputTopic, Partitions: 4}, {Name: resultTopic, Partitions: 4},
		{Name: dlqTopic, Partitions: 1}}
	for i := 1; i < len(set.pipeThreads); i++ {
		inputs = append(inputs, fmt.Sprintf("%s.bench%d", inputTopic, i))
		topics = append(topics, testenv.Topic{Name: inputs[i], Partitions: 4})
	}
	k := testenv.StartKafka(b, testenv.WithTopics(topics...))
	mio := testenv.StartMinIO(b, testenv.WithKafkaNotify(k.Brokers(), inputTopic))
	mio.MakeBucket(bucket)
	s3 := mio.Client(b)
	benchNotifyObjectCreated(b, s3, mio.NotifyARN(), bucket, benchLatPrefix)

	rt := modeltest.Runtime(b)
	modelBytes := set.modelBytes(b)
	meta, err := model.ReadMetadata(modelBytes)
	if err != nil {
		b.Fatal(err)
	}
	cfg := meta.Config
	modelPath := filepath.Join(b.TempDir(), "model.onnx")
	if err := os.WriteFile(modelPath, modelBytes, 0o644); err != nil {
		b.Fatal(err)
	}

	// The photos: uploaded once for the capacity rounds, and decoded once for the bare-model baseline.
	photos := benchPhotos(b, set.photos)
	prepared := make([]*inference.Prepared, len(photos))
	for i, data := range photos {
		key := fmt.Sprintf("%s%03d.jpg", benchCapPrefix, i)
		if _, err := s3.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
			b.Fatal(err)
		}
		if prepared[i], err = inference.Prepare(data, cfg.ImageSize, imaging.DecodeOptions{}); err != nil {
			b.Fatalf("photo %d: %v", i, err)
		}
	}

	results := benchCollectResults(b, k.Brokers())
	producerW := &kafka.Writer{Addr: kafka.TCP(k.Brokers()...), BatchTimeout: time.Millisecond, BatchSize: 1000,
		RequiredAcks: kafka.RequireAll}
	defer producerW.Close()
	runPipeline := func(ctx context.Context, topic string, n int) (time.Duration, error) {
		base := results.count()
		msgs := make([]kafka.Message, n)
		for i := range msgs {
			ref, _ := json.Marshal(map[string]string{"bucket": bucket,
				"key": fmt.Sprintf("%s%03d.jpg", benchCapPrefix, i%len(photos))})
			msgs[i] = kafka.Message{Topic: topic, Value: ref}
		}
		start := time.Now()
		if err := producerW.WriteMessages(ctx, msgs...); err != nil {
			return 0, fmt.Errorf("produce image references: %w", err)
		}
		evs, err := results.waitFor(ctx, base+n, 5*time.Minute)
		if err != nil {
			return 0, err
		}
		if d := results.deadLetters(); d > 0 {
			return 0, fmt.Errorf("%d dead letters during the run", d)
		}
		last := start
		for _, e := range evs[base:] {
			if e.ProcessedAt.After(last) {
				last = e.ProcessedAt
			}
		}
		return last.Sub(start), nil
	}

	var cases []bench.Case
	for _, threads := range set.threads {
		sess, err := rt.Load(modelBytes, inference.Options{Device: inference.DeviceCPU, IntraOpThreads: threads})
		if err != nil {
			b.Fatal(err)
		}
		defer sess.Close()
		next := 0
		cases = append(cases, bench.Case{Name: fmt.Sprintf("model Segment b%d, ORT threads %d", set.maxBatch, threads),
			Units: float64(set.maxBatch), Call: bench.Timed(func(ctx context.Context) error {
				batch := make([]*inference.Prepared, set.maxBatch)
				for i := range batch {
					batch[i] = prepared[next%len(prepared)]
					next++
				}
				_, err := sess.Segment(ctx, batch)
				return err
			})})
	}
	firstPipeline := len(cases)
	for i, threads := range set.pipeThreads {
		opts := inference.Options{Device: inference.DeviceCPU, IntraOpThreads: threads}
		name := fmt.Sprintf("pipeline MaxBatch %d, ORT threads %d", set.maxBatch, threads)
		if i < len(set.pipeNoSpin) && set.pipeNoSpin[i] {
			opts.DisableSpinning = true
			name += ", no spinning"
		}
		tracing := benchTracing(b, i < len(set.pipeTracing) && set.pipeTracing[i], &name)
		benchStartPipeline(b, k.Brokers(), inputs[i], benchGroup(i), s3, rt,
			pipeline.ModelSource{File: modelPath}, opts, set.maxBatch, tracing)
		topic := inputs[i]
		cases = append(cases, bench.Case{Name: name,
			Units: float64(set.images),
			Call:  func(ctx context.Context) (time.Duration, error) { return runPipeline(ctx, topic, set.images) }})
	}

	// The reference model brackets every other case: each ratio compares measurements seconds apart.
	series, err := bench.Interleave(ctx, bench.Plan{Rounds: set.rounds, MinTime: set.minTime, MinCalls: 1, Warmup: 1,
		Bracket: true, Log: os.Stdout, Probe: bench.CPUProbe()}, cases...)
	if err != nil {
		b.Fatal(err)
	}
	ref := series[0]
	refCPU := ref.ProbeMedian("self")
	for i, s := range series {
		note := "pre-decoded images, Segment incl. mask post-processing"
		if i >= firstPipeline {
			note = fmt.Sprintf("%d JSON references per call: Kafka -> S3 -> decode -> batch -> model -> mask PNG -> S3 + event",
				set.images)
		}
		rep.AddRounds(s.Name+" images/s", s.Rates, "images/s", note)
		if i > 0 {
			rep.AddRounds(s.Name+" / reference", s.RefRatios(), "ratio of images/s", "reference measured right before and after")
		}
		self := s.ProbeMedian("self")
		rep.Add(s.Name+" CPU", 1000*self, "CPU-ms/image", fmt.Sprintf("this process; %.0f%% kernel; %.2fx the reference's",
			100*s.ProbeMedian("self"+bench.SysSuffix)/self, self/refCPU))
		if i >= firstPipeline {
			other := s.ProbeMedian("minio") + s.ProbeMedian("devbroker")
			rep.Add(s.Name+" CPU of MinIO + broker", 1000*other, "CPU-ms/image", fmt.Sprintf("MinIO %.2f, broker %.2f",
				1000*s.ProbeMedian("minio"), 1000*s.ProbeMedian("devbroker")))
			rep.Add(s.Name+" cost over the reference", 100*((self+other)/refCPU-1), "% CPU/image",
				"all processes' CPU per image over the bare model's; goal < 5")
			if set.pipeThreads[i-firstPipeline] == set.threads[0] {
				rep.Add(s.Name+" CPU beside the model", 1000*(self-refCPU), "CPU-ms/image",
					"this process less the bare model at equal ORT threads; goal <= 2.0")
			}
		}
	}
	benchTracingOverhead(rep, series[firstPipeline:], set.pipeTracing)
	pipeS := series[firstPipeline]
	capacity := pipeS.Median()

	// Latency at a fixed offered rate of half the first pipeline's capacity, uploads through MinIO notifications.
	rate := capacity / 2
	lat := benchLatency(b, s3, results, photos, rate, set.latencyTime)
	rep.Add("offered upload rate", rate, "images/s", "half the median capacity of "+pipeS.Name)
	rep.Add("achieved rate", lat.achieved, "images/s", fmt.Sprintf("%d uploads", lat.n))
	rep.Add("end-to-end latency p50", bench.Percentile(lat.e2e, 50), "ms", "processed_at - upload start")
	rep.Add("end-to-end latency p99", bench.Percentile(lat.e2e, 99), "ms", "processed_at - upload start")
	rep.Add("end-to-end latency max", bench.Percentile(lat.e2e, 100), "ms", "")
	batchMS := 1000 * float64(set.maxBatch) / ref.Median()
	rep.Add("p99 latency goal: max-wait + 2 x batch inference", float64(pipeline.DefaultConfig().MaxWait.Milliseconds())+2*batchMS,
		"ms", fmt.Sprintf("batch of %d in %.1f ms (the reference's median)", set.maxBatch, batchMS))
	for _, st := range []struct {
		name string
		xs   []float64
	}{{"total", lat.total}, {"fetch", lat.fetch}, {"decode", lat.decode}, {"queue", lat.queue}, {"infer", lat.infer}, {"write+publish", lat.write}} {
		rep.Add("timings_ms."+st.name+" p50", bench.Percentile(st.xs, 50), "ms", "")
		rep.Add("timings_ms."+st.name+" p99", bench.Percentile(st.xs, 99), "ms", "")
	}
	rep.Notef("model %s, %d photos from the Oxford pets sample, ONNX Runtime %s; reference: %s; "+
		"MinIO and the dev broker run on the same CPUs", set.modelName(), len(photos), rt.Version(), ref.Name)
	rep.Notef("CPU-ms/image from procfs per slice: this process = pipeline goroutines, ONNX Runtime threads, the " +
		"result collector (and idle pipelines polling); MinIO and broker are their own processes")

	if set.cpuProfile != "" {
		f, err := os.Create(set.cpuProfile)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		// Five slices' worth of images: at the profiler's 100 samples per CPU-second a stage of 0.5 ms/image
		// then gets about 24 samples with 96 images per slice (VITSEG_BENCH_QUICK), 40 with the default 160.
		profiled := 5 * set.images
		var d time.Duration
		pprof.Do(ctx, pprof.Labels(benchLabel, "driver"), func(ctx context.Context) {
			d, err = runPipeline(ctx, inputs[0], profiled)
		})
		pprof.StopCPUProfile()
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		split, err := splitProfile(set.cpuProfile, pipelineLabel(benchGroup(0)))
		if err != nil {
			b.Fatal(err)
		}
		addCPUSplit(rep, split, profiled)
		rep.Notef("CPU profile of %s alone, %d images (%.1f images/s): %s; its split by stage is the profile's rows",
			pipeS.Name, profiled, float64(profiled)/d.Seconds(), set.cpuProfile)
	}

	rep.Finish()
	b.ReportMetric(pipeS.Median(), "pipeline-images/s")
	b.ReportMetric(ref.Median(), "model-images/s")
	b.ReportMetric(bench.Median(pipeS.RefRatios()), "pipeline/model")
	b.ReportMetric(bench.Percentile(lat.e2e, 50), "p50-ms")
	b.ReportMetric(bench.Percentile(lat.e2e, 99), "p99-ms")
	if err := rep.WriteTable(os.Stdout); err != nil {
		b.Fatal(err)
	}
	if set.out != "" {
		if err := rep.Save(set.out); err != nil {
			b.Fatal(err)
		}
	}
}

// benchGroup is the consumer group of the benchmark's pipeline i.
func benchGroup(i int) string { return fmt.Sprintf("vitseg-bench-%d", i) }

// benchNotifyObjectCreated is testenv's NotifyObjectCreated with retries: on a loaded machine MinIO's Kafka
// target can still be offline when the server already answers, and the server then refuses the ARN.
func benchNotifyObjectCreated(tb testing.TB, s3 *minio.Client, arnText, bucket, prefix string) {
	tb.Helper()
	arn, err := notification.NewArnFromString(arnText)
	if err != nil {
		tb.Fatal(err)
	}
	q := notification.NewConfig(arn)
	q.AddEvents(notification.ObjectCreatedAll)
	q.AddFilterPrefix(prefix)
	var cfg notification.Configuration
	cfg.AddQueue(q)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := s3.SetBucketNotification(ctx, bucket, cfg)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("set notification on %s: %v", bucket, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// benchPhotos reads up to n JPEG photos of the shared Oxford pets sample, in name order.
func benchPhotos(tb testing.TB, n int) [][]byte {
	tb.Helper()
	dir := modeltest.DatasetDir(tb)
	paths, err := filepath.Glob(filepath.Join(dir, "images", "*.jpg"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no photos in %s/images (set VITSEG_DATASET_DIR): %v", dir, err)
	}
	sort.Strings(paths)
	var out [][]byte
	for _, p := range paths {
		if len(out) == n {
			break
		}
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := inference.Prepare(data, 128, imaging.DecodeOptions{}); err != nil {
			continue // Not every file of the sample is a decodable JPEG (some are GIFs named .jpg).
		}
		out = append(out, data)
	}
	return out
}

// benchStartPipeline runs a pipeline on topic in-process, as stack_test.go does, until the benchmark ends; tune
// changes its configuration after the benchmark's own settings.
func benchStartPipeline(tb testing.TB, brokers []string, topic, group string, s3 *minio.Client, rt *inference.Runtime,
	models pipeline.ModelSource, opts inference.Options, maxBatch int, tracing trace.TracerProvider,
	tune ...func(*pipeline.Config)) *pipeline.Pipeline {
	tb.Helper()
	allow, err := consumer.ParseAllowList(bucket + "/" + benchCapPrefix + "," + bucket + "/" + benchLatPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	reader, err := consumer.NewReader(consumer.ReaderConfig{Brokers: brokers, GroupID: group, Topic: topic,
		SessionTimeout: 6 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	writer, err := producer.NewWriter(producer.WriterConfig{Brokers: brokers, ResultTopic: resultTopic,
		DeadLetterTopic: dlqTopic})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := pipeline.DefaultConfig()
	cfg.Allow, cfg.MaxBatch = allow, maxBatch
	_, cfg.DecodeWorkers = pipeline.AutoThreads(runtime.NumCPU(), false) // serve's --decode-workers 0
	for _, f := range tune {
		f(&cfg)
	}
	p, err := pipeline.New(cfg, pipeline.Deps{Reader: reader, Writer: writer, Store: pipeline.NewS3Store(s3), Runtime: rt,
		Session: opts, Models: models, Tracing: tracing})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go pprof.Do(ctx, pprof.Labels(benchLabel, pipelineLabel(group)), func(ctx context.Context) { done <- p.Run(ctx) })
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("pipeline returned %v", err)
				}
			case <-time.After(60 * time.Second):
				tb.Error("pipeline did not stop within 60s")
			}
			reader.Close() //nolint:errcheck
			writer.Close() //nolint:errcheck
		})
	}
	tb.Cleanup(stop)
	return p
}

// benchResults follows the result and dead-letter topics from their start.
type benchResults struct {
	mu     sync.Mutex
	events []events.ResultEvent
	dlq    int
	errs   []error
}

func benchCollectResults(tb testing.TB, brokers []string) *benchResults {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &benchResults{}
	var wg sync.WaitGroup
	follow := func(topic string, partition int, handle func(kafka.Message)) {
		rd := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: partition,
			MaxWait: 50 * time.Millisecond})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rd.Close()
			pprof.SetGoroutineLabels(withBenchLabel(ctx, "collector"))
			for {
				m, err := rd.ReadMessage(ctx)
				if err != nil {
					return
				}
				handle(m)
			}
		}()
	}
	for p := range 4 {
		follow(resultTopic, p, func(m kafka.Message) {
			var ev events.ResultEvent
			err := json.Unmarshal(m.Value, &ev)
			r.mu.Lock()
			if err != nil {
				r.errs = append(r.errs, err)
			} else {
				r.events = append(r.events, ev)
			}
			r.mu.Unlock()
		})
	}
	follow(dlqTopic, 0, func(kafka.Message) {
		r.mu.Lock()
		r.dlq++
		r.mu.Unlock()
	})
	tb.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

func (r *benchResults) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *benchResults) deadLetters() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dlq
}

// waitFor polls until n result events arrived and returns a copy of all of them.
func (r *benchResults) waitFor(ctx context.Context, n int, timeout time.Duration) ([]events.ResultEvent, error) {
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		got, errs, dlq := len(r.events), errors.Join(r.errs...), r.dlq
		var evs []events.ResultEvent
		if got >= n {
			evs = append(evs, r.events...)
		}
		r.mu.Unlock()
		switch {
		case errs != nil:
			return nil, fmt.Errorf("undecodable result events: %w", errs)
		case evs != nil:
			return evs, nil
		case time.Now().After(deadline):
			return nil, fmt.Errorf("%d of %d result events after %s (%d dead letters)", got, n, timeout, dlq)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// benchLatencies are the per-image times of the fixed-rate phase, in milliseconds.
type benchLatencies struct {
	n                                         int
	achieved                                  float64 // images/s from the first upload to the last result
	e2e                                       []float64
	total, fetch, decode, queue, infer, write []float64
}

// benchLatency uploads photos at rate per second for d (through MinIO's notifications into the input topic)
// and measures each image's end-to-end latency: its result's processed_at minus the start of its upload.
func benchLatency(tb testing.TB, s3 *minio.Client, results *benchResults, photos [][]byte, rate float64, d time.Duration) benchLatencies {
	tb.Helper()
	ctx := context.Background()
	n := max(int(rate*d.Seconds()), 1)
	interval := time.Duration(float64(time.Second) / rate)
	uploaded := make([]time.Time, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range n {
		if wait := time.Until(t0.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		uploaded[i] = time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := photos[i%len(photos)]
			key := fmt.Sprintf("%s%05d.jpg", benchLatPrefix, i)
			if _, err := s3.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)),
				minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
				errs <- fmt.Errorf("upload %s: %w", key, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	var got map[string]events.ResultEvent
	deadline := time.Now().Add(5 * time.Minute)
	for {
		got = map[string]events.ResultEvent{}
		results.mu.Lock()
		for _, e := range results.events {
			if strings.HasPrefix(e.Source.Key, benchLatPrefix) {
				got[e.Source.Key] = e
			}
		}
		results.mu.Unlock()
		if len(got) >= n {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("latency phase: %d of %d results after 5 minutes", len(got), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	lat := benchLatencies{n: n}
	last := t0
	for i := range n {
		e := got[fmt.Sprintf("%s%05d.jpg", benchLatPrefix, i)]
		if e.ProcessedAt.After(last) {
			last = e.ProcessedAt
		}
		t := e.TimingsMS
		lat.e2e = append(lat.e2e, events.Millis(e.ProcessedAt.Sub(uploaded[i])))
		lat.total = append(lat.total, t.Total)
		lat.fetch = append(lat.fetch, t.Fetch)
		lat.decode = append(lat.decode, t.Decode)
		lat.queue = append(lat.queue, t.Queue)
		lat.infer = append(lat.infer, t.Infer)
		lat.write = append(lat.write, t.Total-t.Fetch-t.Decode-t.Queue-t.Infer)
	}
	lat.achieved = float64(n) / last.Sub(t0).Seconds()
	return lat
}
