package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/pipeline"
)

// BenchmarkShadowCost measures what shadow evaluation costs the live path at saturation: images/s through
// Kafka and MinIO of a pipeline that follows a registry whose candidate it evaluates at each shadow fraction
// (VITSEG_BENCH_SHADOW_FRACTIONS, default 0.1,1: serve's default and every image offered, the shadow queue then
// full and dropping), against the same pipeline without a shadow (the reference), measured side by side in the
// same run (bench.Interleave, the reference bracketing every case). Every pipeline serves the shipped model
// from the same registry; the candidate is the shipped model again and is never decided. Run it once:
//
//	go test -tags onnx -run '^$' -bench ShadowCost -benchtime 1x ./pipeline
//
// VITSEG_BENCH_ROUNDS, _IMAGES, _MIN_TIME, _MAX_BATCH, _PHOTOS and _OUT apply as for BenchmarkPipelineVsModel.
func BenchmarkShadowCost(b *testing.B) {
	set := readPipelineBenchSettings(b)
	fractions := []float64{0.1, 1}
	if v := os.Getenv("VITSEG_BENCH_SHADOW_FRACTIONS"); v != "" {
		fractions = nil
		for _, f := range strings.Split(v, ",") {
			x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || x <= 0 || x > 1 {
				b.Fatalf("VITSEG_BENCH_SHADOW_FRACTIONS=%q: want fractions in (0, 1]", v)
			}
			fractions = append(fractions, x)
		}
	}
	for range b.N {
		runShadowBench(b, set, fractions)
	}
}

// shadowBench is the stack of BenchmarkShadowCost: one input topic and consumer group per pipeline, and a
// registry with the shipped model current and as the candidate.
type shadowBench struct {
	set     pipelineBenchSettings
	brokers []string
	s3      *minio.Client
	rt      *inference.Runtime
	reg     *registry.Registry
	results *benchResults
	writer  *kafka.Writer
	photos  int
}

func startShadowBench(b *testing.B, set pipelineBenchSettings, pipelines int) *shadowBench {
	topics := []testenv.Topic{{Name: resultTopic, Partitions: 4}, {Name: dlqTopic, Partitions: 1}}
	for i := range pipelines {
		topics = append(topics, testenv.Topic{Name: fmt.Sprintf("%s.shadow%d", inputTopic, i), Partitions: 4})
	}
	k := testenv.StartKafka(b, testenv.WithTopics(topics...))
	mio := testenv.StartMinIO(b)
	mio.MakeBucket(bucket)
	mio.MakeBucket("models")
	s3 := mio.Client(b)
	ctx := context.Background()
	photos := benchPhotos(b, set.photos)
	for i, data := range photos {
		if _, err := s3.PutObject(ctx, bucket, fmt.Sprintf("%s%03d.jpg", benchCapPrefix, i), bytes.NewReader(data),
			int64(len(data)), minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
			b.Fatal(err)
		}
	}
	reg := registry.New(s3, "models", "vitseg")
	shipped := set.modelBytes(b)
	meta := registry.VersionMetadata{Metrics: map[string]float64{"pixel_accuracy": 0.5}, EvalSplit: "val@bench"}
	for _, candidate := range []bool{false, true} {
		if _, err := reg.Publish(ctx, shipped, meta, registry.PublishOptions{Candidate: candidate}); err != nil {
			b.Fatal(err)
		}
	}
	w := &kafka.Writer{Addr: kafka.TCP(k.Brokers()...), BatchTimeout: time.Millisecond, BatchSize: 1000,
		RequiredAcks: kafka.RequireAll}
	b.Cleanup(func() { w.Close() })
	return &shadowBench{set: set, brokers: k.Brokers(), s3: s3, rt: modeltest.Runtime(b), reg: reg,
		results: benchCollectResults(b, k.Brokers()), writer: w, photos: len(photos)}
}

// start starts pipeline i, with shadow evaluation at fraction (0: none).
func (sb *shadowBench) start(b *testing.B, i int, fraction float64) *pipeline.Pipeline {
	threads, _ := pipeline.AutoThreads(runtime.NumCPU(), false)
	opts := inference.Options{Device: inference.DeviceCPU, IntraOpThreads: threads, DisableSpinning: true}
	models := pipeline.ModelSource{Registry: sb.reg, PollInterval: time.Second}
	return benchStartPipeline(b, sb.brokers, fmt.Sprintf("%s.shadow%d", inputTopic, i), fmt.Sprintf("vitseg-shadow-%d", i),
		sb.s3, sb.rt, models, opts, sb.set.maxBatch, nil, func(c *pipeline.Config) {
			c.Lifecycle = pipeline.DefaultLifecycle()
			c.Lifecycle.ShadowFraction = fraction
			c.Lifecycle.Policy.MinImages = 1 << 40 // Never decided: the candidate stays under evaluation.
		})
}

// run sends set.images references to pipeline i and returns the time from the first send to the last result.
func (sb *shadowBench) run(ctx context.Context, i int) (time.Duration, error) {
	base := sb.results.count()
	msgs := make([]kafka.Message, sb.set.images)
	for j := range msgs {
		ref, _ := json.Marshal(map[string]string{"bucket": bucket, "key": fmt.Sprintf("%s%03d.jpg", benchCapPrefix, j%sb.photos)})
		msgs[j] = kafka.Message{Topic: fmt.Sprintf("%s.shadow%d", inputTopic, i), Value: ref}
	}
	start := time.Now()
	if err := sb.writer.WriteMessages(ctx, msgs...); err != nil {
		return 0, fmt.Errorf("produce image references: %w", err)
	}
	evs, err := sb.results.waitFor(ctx, base+len(msgs), 5*time.Minute)
	if err != nil {
		return 0, err
	}
	if d := sb.results.deadLetters(); d > 0 {
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

func runShadowBench(b *testing.B, set pipelineBenchSettings, fractions []float64) {
	sb := startShadowBench(b, set, len(fractions)+1)
	ref := sb.start(b, 0, 0)
	pipes := []*pipeline.Pipeline{ref}
	cases := []bench.Case{{Name: "pipeline without shadow", Units: float64(set.images),
		Call: func(ctx context.Context) (time.Duration, error) { return sb.run(ctx, 0) }}}
	for i, f := range fractions {
		pipes = append(pipes, sb.start(b, i+1, f))
		cases = append(cases, bench.Case{Name: fmt.Sprintf("pipeline with shadow fraction %g", f), Units: float64(set.images),
			Call: func(ctx context.Context) (time.Duration, error) { return sb.run(ctx, i+1) }})
	}
	for i, p := range pipes[1:] {
		waitShadowLoaded(b, p, i+1)
	}
	series, err := bench.Interleave(context.Background(), bench.Plan{Rounds: set.rounds, MinTime: set.minTime, MinCalls: 1,
		Warmup: 1, Bracket: true, Log: os.Stdout, Probe: bench.CPUProbe()}, cases...)
	if err != nil {
		b.Fatal(err)
	}
	rep := bench.NewReport("shadow", "go test -tags onnx -run '^$' -bench ShadowCost -benchtime 1x ./pipeline")
	for i, s := range series {
		rep.AddRounds(s.Name+" images/s", s.Rates, "images/s", fmt.Sprintf("%d JSON references per call, MaxBatch %d", set.images, set.maxBatch))
		if i == 0 {
			continue
		}
		ratios := s.RefRatios()
		loss := make([]float64, len(ratios))
		for j, r := range ratios {
			loss[j] = 100 * (1 - r)
		}
		rep.AddRounds(s.Name+" loss", loss, "% images/s", "against the reference measured right before and after; goal <= 5")
		shadowed, dropped := shadowCounts(b, pipes[i])
		rep.Add(s.Name+" shadow images", shadowed, "images", fmt.Sprintf("segmented by the candidate over the run; %.0f dropped (queue full)", dropped))
		b.ReportMetric(bench.Median(loss), fmt.Sprintf("loss%%-fraction-%g", fractions[i-1]))
	}
	rep.Notef("model %s from a registry, candidate the same model; %d photos; ONNX Runtime %s; MinIO and the dev broker on the same CPUs",
		set.modelName(), sb.photos, sb.rt.Version())
	rep.Finish()
	if err := rep.WriteTable(os.Stdout); err != nil {
		b.Fatal(err)
	}
	if set.out != "" {
		if err := rep.Save(set.out); err != nil {
			b.Fatal(err)
		}
	}
}

// waitShadowLoaded waits until pipeline i has loaded the candidate.
func waitShadowLoaded(b *testing.B, p *pipeline.Pipeline, i int) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if loaded, _ := metricSum(b, p, "vitseg_shadow_loads_total", "loaded"); loaded >= 1 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("pipeline %d did not load the candidate", i)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shadowCounts returns the images the candidate segmented and the samples dropped, over every version.
func shadowCounts(b *testing.B, p *pipeline.Pipeline) (images, dropped float64) {
	images, _ = metricSum(b, p, "vitseg_shadow_images_total", "")
	dropped, _ = metricSum(b, p, "vitseg_shadow_dropped_total", "")
	return images, dropped
}

// metricSum sums the counter series of name whose labels include the value label ("" any), and counts them.
func metricSum(b *testing.B, p *pipeline.Pipeline, name, label string) (float64, int) {
	families, err := p.Gather()
	if err != nil {
		b.Fatal(err)
	}
	sum, n := 0.0, 0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				match = match || l.GetValue() == label
			}
			if match {
				sum += m.GetCounter().GetValue()
				n++
			}
		}
	}
	return sum, n
}
