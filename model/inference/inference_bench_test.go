package inference_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
)

// BenchmarkSegmentVsRun measures, side by side in alternating rounds, Session.Run (the model alone),
// Session.Segment (the model plus the per-image post-processing: the logits interpolated to the photo's
// resolution and arg-maxed, class statistics) and Segment with the flip test-time augmentation, on real photos,
// at batch 8 with the small preset, and reports the post-processing's share and the augmentation's cost. Run
// it once:
//
//	go test -tags onnx -run '^$' -bench SegmentVsRun -benchtime 1x ./model/inference
//
// The model-only throughput at other batch sizes and presets is `vitseg-bench inference` (scripts/bench.sh).
func BenchmarkSegmentVsRun(b *testing.B) {
	const batch = 8
	rt := modeltest.Runtime(b)
	sess, err := rt.Load(modeltest.Export(b, model.PresetSmall, "bench", 1),
		inference.Options{Device: inference.DeviceCPU, IntraOpThreads: runtime.NumCPU()})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	tta, err := rt.Load(modeltest.Export(b, model.PresetSmall, "bench", 1),
		inference.Options{Device: inference.DeviceCPU, IntraOpThreads: runtime.NumCPU(), TTA: inference.TTAFlip})
	if err != nil {
		b.Fatal(err)
	}
	defer tta.Close()
	prepared := benchPreparedPhotos(b, sess.Config().ImageSize, batch)
	images := make([]float32, 0, batch*sess.ImageLen())
	for _, p := range prepared {
		images = append(images, p.Tensor...)
	}
	for range b.N {
		series, err := bench.Interleave(context.Background(), bench.Plan{Rounds: 3, MinTime: 2 * time.Second, Warmup: 1},
			bench.Case{Name: "Run", Units: batch, Call: bench.Timed(func(ctx context.Context) error {
				_, err := sess.Run(ctx, images, batch)
				return err
			})},
			bench.Case{Name: "Segment", Units: batch, Call: bench.Timed(func(ctx context.Context) error {
				_, err := sess.Segment(ctx, prepared)
				return err
			})},
			bench.Case{Name: "Segment --tta flip", Units: batch, Call: bench.Timed(func(ctx context.Context) error {
				_, err := tta.Segment(ctx, prepared)
				return err
			})})
		if err != nil {
			b.Fatal(err)
		}
		ratio := bench.Median(bench.Ratios(series[1], series[0]))
		b.ReportMetric(series[0].Median(), "run-images/s")
		b.ReportMetric(series[1].Median(), "segment-images/s")
		b.ReportMetric(ratio, "segment/run")
		fmt.Fprintf(os.Stdout, "Run %.1f images/s, Segment %.1f images/s, Segment/Run %.3f (post-processing %.1f%% of Segment)\n",
			series[0].Median(), series[1].Median(), ratio, 100*(1-ratio))
		flip := bench.Median(bench.Ratios(series[1], series[2]))
		b.ReportMetric(series[2].Median(), "segment-tta-flip-images/s")
		b.ReportMetric(flip, "tta-flip-cost")
		fmt.Fprintf(os.Stdout, "Segment --tta flip %.1f images/s: %.2fx the time of Segment\n", series[2].Median(), flip)
	}
}

// benchPreparedPhotos decodes the first n decodable photos of the dataset sample.
func benchPreparedPhotos(tb testing.TB, size, n int) []*inference.Prepared {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(modeltest.DatasetDir(tb), "images", "*.jpg"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(paths)
	var out []*inference.Prepared
	for _, p := range paths {
		if len(out) == n {
			break
		}
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		prep, err := inference.Prepare(data, size, imaging.DecodeOptions{})
		if err != nil {
			continue // A few files of the sample are not decodable photos.
		}
		out = append(out, prep)
	}
	if len(out) < n {
		tb.Fatalf("only %d decodable photos, want %d", len(out), n)
	}
	return out
}

// BenchmarkArchitectureCost measures, side by side in alternating rounds, Session.Run at batch 8 of the small
// preset with each architecture option: the article's Linear patch embedding, the convolutional stem (the
// previous default, the baseline) and the conv stem with either UNet decoder; it reports each one's time
// relative to the baseline. Run it once:
//
//	go test -tags onnx -run '^$' -bench ArchitectureCost -benchtime 1x ./model/inference
func BenchmarkArchitectureCost(b *testing.B) {
	const batch = 8
	rt := modeltest.Runtime(b)
	linear, err := model.Preset(model.PresetSmall)
	if err != nil {
		b.Fatal(err)
	}
	conv, unet, unetLinear := linear, linear, linear
	conv.Stem = model.StemConv
	unet.Stem, unet.Decoder = model.StemConv, model.DecoderUNet
	unetLinear.Stem, unetLinear.Decoder = model.StemConv, model.DecoderUNetLinear
	archs := []struct {
		name string
		cfg  model.Config
	}{{"conv-stem", conv}, {"linear-stem", linear}, {"unet-decoder", unet}, {"unet-linear-decoder", unetLinear}}
	var cases []bench.Case
	for _, a := range archs {
		sess, err := rt.Load(modeltest.ExportConfig(b, a.cfg, "bench", 1),
			inference.Options{Device: inference.DeviceCPU, IntraOpThreads: runtime.NumCPU()})
		if err != nil {
			b.Fatal(err)
		}
		defer sess.Close()
		images := make([]float32, batch*sess.ImageLen())
		for i := range images {
			images[i] = float32(i%251) / 250
		}
		cases = append(cases, bench.Case{Name: a.name, Units: batch,
			Call: bench.Timed(func(ctx context.Context) error {
				_, err := sess.Run(ctx, images, batch)
				return err
			})})
	}
	for range b.N {
		series, err := bench.Interleave(context.Background(), bench.Plan{Rounds: 3, MinTime: 2 * time.Second, Warmup: 1}, cases...)
		if err != nil {
			b.Fatal(err)
		}
		for i, a := range archs {
			cost := bench.Median(bench.Ratios(series[0], series[i]))
			b.ReportMetric(series[i].Median(), a.name+"-images/s")
			b.ReportMetric(cost, a.name+"-time-vs-conv-stem")
			fmt.Fprintf(os.Stdout, "Run b%d, %s: %.1f images/s, %.2fx the conv stem's time\n", batch, a.name, series[i].Median(), cost)
		}
	}
}
