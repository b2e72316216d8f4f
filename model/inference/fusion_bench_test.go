package inference_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model/inference"
)

// BenchmarkFusedGraph measures Session.Run of the shipped model (model/zoo/small) with its graph as GoMLX exports
// it and with its layer norms, softmaxes and GELUs fused (onnxfile.FuseForORT, what Load runs), side by side in
// alternating rounds at batch 1, 8 and 32, and reports images/s and the fused graph's speed-up. Run it once:
//
//	go test -tags onnx -run '^$' -bench FusedGraph -benchtime 1x ./model/inference
func BenchmarkFusedGraph(b *testing.B) {
	rt := modeltest.Runtime(b)
	onnx, err := os.ReadFile(filepath.Join("..", "zoo", "small", "model.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	load := func(unfused bool) *inference.Session {
		s, err := rt.Load(onnx, inference.Options{Device: inference.DeviceCPU, IntraOpThreads: runtime.NumCPU(), UnfusedGraph: unfused})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	exported, fused := load(true), load(false)
	for range b.N {
		for _, batch := range []int{1, 8, 32} {
			prepared := benchPreparedPhotos(b, fused.Config().ImageSize, min(batch, 8))
			images := make([]float32, 0, batch*fused.ImageLen())
			for i := range batch {
				images = append(images, prepared[i%len(prepared)].Tensor...)
			}
			run := func(s *inference.Session) func(context.Context) (time.Duration, error) {
				return bench.Timed(func(ctx context.Context) error { _, err := s.Run(ctx, images, batch); return err })
			}
			series, err := bench.Interleave(context.Background(), bench.Plan{Rounds: 3, MinTime: 2 * time.Second, Warmup: 1},
				bench.Case{Name: "exported", Units: float64(batch), Call: run(exported)},
				bench.Case{Name: "fused", Units: float64(batch), Call: run(fused)})
			if err != nil {
				b.Fatal(err)
			}
			speedup := bench.Median(bench.Ratios(series[1], series[0]))
			b.ReportMetric(speedup, fmt.Sprintf("b%d-fused/exported", batch))
			fmt.Fprintf(os.Stdout, "b%-3d exported %7.1f images/s, fused %7.1f images/s, fused/exported %.3f\n",
				batch, series[0].Median(), series[1].Median(), speedup)
		}
	}
}
