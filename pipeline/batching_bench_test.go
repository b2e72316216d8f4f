package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
)

// BenchmarkLatencyTarget runs the batcher and the shipped model (Session.Segment, serve's session options) on
// Poisson arrivals at 25, 50, 90 and 110% of the capacity (the fixed window's images/s with every image queued
// at once, measured first in the same run), with the fixed window (--max-batch 8 --max-wait 20ms) and with
// --latency-target, side by side: p99 latency from arrival to inference done, and images/s. The path measured
// is the one the batcher controls (its wait and the inference); serve's target also covers fetch, decode and
// write, which the policy learns and subtracts.
//
//	go test -tags onnx -run '^$' -bench LatencyTarget -benchtime 1x ./pipeline
//
// VITSEG_BENCH_TARGET sets the target (default 300ms), VITSEG_BENCH_IMAGES the images per row (default 160).
func BenchmarkLatencyTarget(b *testing.B) {
	target := envDuration(b, "VITSEG_BENCH_TARGET", 300*time.Millisecond)
	images := envInt(b, "VITSEG_BENCH_IMAGES", 160)
	sess, prepared := batchingBenchSession(b)
	defer sess.Close()
	const maxBatch, maxWait = 8, 20 * time.Millisecond
	// Capacity: the fixed window's throughput with every image queued at once, through the same batcher and
	// Segment as the rows (batches of one photo back to back overstate what a stream gets).
	capacity := runBatching(b, sess, prepared, newLatencyPolicy(0, maxBatch, maxWait), 1e9, images).perSecond
	b.Logf("capacity: %.1f images/s (the fixed window, %d images queued at once); target %v; %d images per row",
		capacity, images, target, images)
	b.Logf("%-6s %-22s %10s %10s %10s", "load", "batcher", "images/s", "p50 ms", "p99 ms")
	for range b.N {
		for _, load := range []float64{0.25, 0.5, 0.9, 1.1} {
			rate := load * capacity
			for _, pol := range []struct {
				name   string
				policy *latencyPolicy
			}{
				{"fixed 8 / 20ms", newLatencyPolicy(0, maxBatch, maxWait)},
				{fmt.Sprintf("latency-target %v", target), newLatencyPolicy(target, maxBatch, maxWait)},
			} {
				r := runBatching(b, sess, prepared, pol.policy, rate, images)
				b.Logf("%-6s %-22s %10.1f %10.1f %10.1f", fmt.Sprintf("%.0f%%", 100*load), pol.name, r.perSecond, r.p50, r.p99)
			}
		}
	}
}

// batchingResult is one row of BenchmarkLatencyTarget.
type batchingResult struct{ perSecond, p50, p99 float64 }

// runBatching sends n arrivals at rate (Poisson) through batchItems with policy into sess, as the pipeline's
// batcher and inference stage do, and measures each image from arrival to inference done.
func runBatching(b *testing.B, sess *inference.Session, prepared *inference.Prepared, policy *latencyPolicy, rate float64, n int) batchingResult {
	ctx := context.Background()
	in := make(chan time.Time, 1024)
	out := make(chan []time.Time, 2)
	limits := func() batchLimits { lim, _ := policy.limits(); return lim }
	go batchItems(ctx, in, out, limits, policy.arrived)
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(1, uint64(rate)))
		next := time.Now()
		for range n {
			next = next.Add(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
			time.Sleep(time.Until(next))
			in <- time.Now()
		}
		close(in)
	})
	var lat []float64
	var first, last time.Time
	for batch := range out {
		start := time.Now()
		if _, err := sess.Segment(ctx, slices.Repeat([]*inference.Prepared{prepared}, len(batch))); err != nil {
			b.Fatal(err)
		}
		done := time.Now()
		policy.inferred(len(batch), done.Sub(start))
		for _, arrived := range batch {
			if first.IsZero() {
				first = arrived
			}
			lat = append(lat, done.Sub(arrived).Seconds()*1000)
			policy.finished(0) // the measured path has no fetch, decode or write
		}
		last = done
	}
	wg.Wait()
	slices.Sort(lat)
	q := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return batchingResult{perSecond: float64(len(lat)) / last.Sub(first).Seconds(), p50: q(0.5), p99: q(0.99)}
}

// batchingBenchSession loads the shipped model with serve's session defaults and prepares one photo.
func batchingBenchSession(b *testing.B) (*inference.Session, *inference.Prepared) {
	rt := modeltest.Runtime(b)
	sess, err := rt.LoadFile(filepath.Join("..", "model", "zoo", "small", "model.onnx"),
		inference.Options{Device: inference.DeviceCPU, DisableSpinning: true})
	if err != nil {
		b.Fatal(err)
	}
	photos, err := filepath.Glob(filepath.Join(modeltest.DatasetDir(b), "images", "*.jpg"))
	if err != nil || len(photos) == 0 {
		b.Fatalf("no photos: %v", err)
	}
	data, err := os.ReadFile(photos[0])
	if err != nil {
		b.Fatal(err)
	}
	prepared, err := inference.Prepare(data, sess.Config().ImageSize, imaging.DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sess.Segment(context.Background(), []*inference.Prepared{prepared}); err != nil { // warm up
		b.Fatal(err)
	}
	return sess, prepared
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		return d
	}
	return def
}

func envInt(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		return n
	}
	return def
}
