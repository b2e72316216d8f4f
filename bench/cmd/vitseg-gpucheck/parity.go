package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vitseg/vitseg/model/inference"
)

// Parity thresholds of the GPU check: CUDA logits against CPU logits on the same model and inputs.
const (
	parityMaxAbsDiff   = 1e-3
	parityMinArgmaxAgr = 0.999
)

// parity runs one batch of random images through the model on the CPU and on CUDA and reports the largest
// logit difference and the share of pixels whose arg-max class agrees.
func parity(ctx context.Context, rt *inference.Runtime, modelPath string, batch int) error {
	cpu, err := rt.LoadFile(modelPath, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		return err
	}
	defer cpu.Close()
	gpu, err := rt.LoadFile(modelPath, inference.Options{Device: inference.DeviceCUDA})
	if err != nil {
		return err
	}
	defer gpu.Close()
	images := make([]float32, batch*cpu.ImageLen())
	r := rand.New(rand.NewPCG(7, uint64(batch)))
	for i := range images {
		images[i] = r.Float32()
	}
	want, err := cpu.Run(ctx, images, batch)
	if err != nil {
		return fmt.Errorf("CPU run: %w", err)
	}
	got, err := gpu.Run(ctx, images, batch)
	if err != nil {
		return fmt.Errorf("CUDA run: %w", err)
	}
	maxDiff := 0.0
	for i := range want {
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i]-want[i])))
	}
	c := cpu.Config()
	plane := c.ImageSize * c.ImageSize
	agree, pixels := 0, batch*plane
	for b := range batch {
		for p := range plane {
			if argmax(want, b, p, c.Classes, plane) == argmax(got, b, p, c.Classes, plane) {
				agree++
			}
		}
	}
	share := float64(agree) / float64(pixels)
	pass := maxDiff <= parityMaxAbsDiff && share >= parityMinArgmaxAgr
	emit(map[string]any{"event": "parity", "model": modelPath, "batch": batch, "provider": gpu.Provider(),
		"max_abs_diff": maxDiff, "argmax_agreement": share, "pass": pass,
		"limits": fmt.Sprintf("max_abs_diff <= %g, argmax_agreement >= %g", parityMaxAbsDiff, parityMinArgmaxAgr)})
	if !pass {
		return fmt.Errorf("parity failed: max abs diff %g, arg-max agreement %.5f", maxDiff, share)
	}
	return nil
}

// argmax is the class with the largest logit of pixel p of image b in [batch, classes, H, W] logits.
func argmax(logits []float32, b, p, classes, plane int) int {
	best := 0
	for k := 1; k < classes; k++ {
		if logits[(b*classes+k)*plane+p] > logits[(b*classes+best)*plane+p] {
			best = k
		}
	}
	return best
}
