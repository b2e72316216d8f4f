package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/vitseg/vitseg/bench"
	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
)

// BenchmarkPipelineStages measures the CPU cost per image of each step the pipeline adds around the model, side
// by side with the model itself (Session.Run at batch MaxBatch, per image), on real photos, in alternating rounds:
// it says where the pipeline's time goes. Next to the pipeline's steps it measures, in the same run, the steps as
// they were before the decode work of docs/PERFORMANCE.md §3 ("before: ..."), and the decode of each format.
//
//	go test -tags onnx -run '^$' -bench PipelineStages -benchtime 1x ./pipeline
func BenchmarkPipelineStages(b *testing.B) {
	set := readPipelineBenchSettings(b)
	for range b.N {
		runPipelineStages(b, set)
	}
}

// stageInputs are the photos and what each step of the pipeline consumes, prepared once.
type stageInputs struct {
	photos   [][]byte
	png, gif [][]byte           // the same photos as PNG and GIF, for the per-format decode rows
	full     []*imaging.Decoded // full-size decodes (for the "before" rows)
	reduced  []*imaging.Decoded // decodes at the model size, as the pipeline does
	images   []float32          // a batch of tensors for the model
	logits   []float32          // the model's output for that batch
	masks    []imaging.UpsampledMask
	oldMasks []*imaging.Mask // full-size masks, as the pipeline built them before
}

func prepareStageInputs(b *testing.B, sess *inference.Session, set pipelineBenchSettings) stageInputs {
	cfg := sess.Config()
	in := stageInputs{photos: benchPhotos(b, set.photos)}
	if len(in.photos) < set.maxBatch {
		b.Fatalf("need %d photos for a batch", set.maxBatch)
	}
	for i, data := range in.photos {
		full, err := imaging.DecodeWith(data, imaging.DecodeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		reduced, err := imaging.DecodeWith(data, imaging.DecodeOptions{MinSize: cfg.ImageSize})
		if err != nil {
			b.Fatal(err)
		}
		in.full, in.reduced = append(in.full, full), append(in.reduced, reduced)
		var pngBuf, gifBuf bytes.Buffer
		if err := png.Encode(&pngBuf, full.Image); err != nil {
			b.Fatal(err)
		}
		if err := gif.Encode(&gifBuf, full.Image, nil); err != nil {
			b.Fatal(err)
		}
		in.png, in.gif = append(in.png, pngBuf.Bytes()), append(in.gif, gifBuf.Bytes())
		if i < set.maxBatch {
			p, err := inference.Prepare(data, cfg.ImageSize, imaging.DecodeOptions{})
			if err != nil {
				b.Fatal(err)
			}
			in.images = append(in.images, p.Tensor...)
		}
	}
	var err error
	if in.logits, err = sess.Run(context.Background(), in.images, set.maxBatch); err != nil {
		b.Fatal(err)
	}
	for i, d := range in.full {
		seg, err := sess.Postprocess(in.logitsOf(sess, i, set.maxBatch), d.Width, d.Height)
		if err != nil {
			b.Fatal(err)
		}
		in.masks = append(in.masks, seg.Mask)
		in.oldMasks = append(in.oldMasks, imaging.ResizeMask(seg.Mask.Base, d.Width, d.Height))
	}
	return in
}

func (in stageInputs) logitsOf(sess *inference.Session, i, batch int) []float32 {
	n := sess.LogitsLen()
	return in.logits[(i%batch)*n:][:n]
}

// stageCases are the measured steps; the first is the model, the pipeline's own steps are flagged.
func stageCases(sess *inference.Session, set pipelineBenchSettings, in stageInputs) (cases []bench.Case, own []bool) {
	cfg := sess.Config()
	next := 0
	photo := func() int { i := next % len(in.photos); next++; return i }
	tensor := make([]float32, sess.ImageLen())
	var buf bytes.Buffer
	var enc imaging.MaskEncoder
	add := func(name string, isOwn bool, f func(i int) error) {
		cases = append(cases, bench.Case{Name: name, Units: 1, Call: bench.Timed(func(context.Context) error { return f(photo()) })})
		own = append(own, isOwn)
	}
	decodeOpts := imaging.DecodeOptions{MinSize: cfg.ImageSize}
	cases = append(cases, bench.Case{Name: fmt.Sprintf("model Run b%d", set.maxBatch), Units: float64(set.maxBatch),
		Call: bench.Timed(func(ctx context.Context) error { _, err := sess.Run(ctx, in.images, set.maxBatch); return err })})
	own = append(own, false)
	add("decode (imaging.Decode)", true, func(i int) error { _, err := imaging.DecodeWith(in.photos[i], decodeOpts); return err })
	add("resize (imaging.ToTensor)", true, func(i int) error { return imaging.ToTensor(in.reduced[i].Image, cfg.ImageSize, tensor) })
	add("post-process (Session.Postprocess: mask, upsample, stats)", true, func(i int) error {
		_, err := sess.Postprocess(in.logitsOf(sess, i, set.maxBatch), in.full[i].Width, in.full[i].Height)
		return err
	})
	add("mask PNG (EncodeMaskPNG)", true, func(i int) error { buf.Reset(); return enc.Encode(&buf, in.masks[i]) })
	// The same steps as they were before (image/jpeg at full size, x/image/draw, a full-size mask, image/png).
	add("before: decode JPEG full size (image/jpeg)", false, func(i int) error {
		_, err := jpeg.Decode(bytes.NewReader(in.photos[i]))
		return err
	})
	add("before: resize (x/image/draw BiLinear)", false, func(i int) error {
		dst := image.NewRGBA(image.Rect(0, 0, cfg.ImageSize, cfg.ImageSize))
		xdraw.BiLinear.Scale(dst, dst.Rect, in.full[i].Image, in.full[i].Image.Rect, xdraw.Src, nil)
		return nil
	})
	add("before: post-process (full-size mask)", false, func(i int) error {
		m, err := imaging.MaskFromLogits(in.logitsOf(sess, i, set.maxBatch), cfg.Classes, cfg.ImageSize, cfg.ImageSize)
		if err != nil {
			return err
		}
		imaging.ComputeStats(imaging.ResizeMask(m, in.full[i].Width, in.full[i].Height), cfg.Classes)
		return nil
	})
	add("before: mask PNG (image/png 8-bit, BestSpeed)", false, func(i int) error {
		buf.Reset()
		return benchEncodeMaskPNGBefore(&buf, in.oldMasks[i])
	})
	// Before issue 19: the class map at the model's size, shown nearest-neighbour (its rows packed once each).
	add("nearest: post-process + mask PNG (before full-resolution logits)", false, func(i int) error {
		m, err := imaging.MaskFromLogits(in.logitsOf(sess, i, set.maxBatch), cfg.Classes, cfg.ImageSize, cfg.ImageSize)
		if err != nil {
			return err
		}
		u := imaging.UpsampledMask{Base: m, Width: in.full[i].Width, Height: in.full[i].Height}
		u.Stats(cfg.Classes)
		buf.Reset()
		return enc.Encode(&buf, u)
	})
	// Decode by format (the photos re-encoded): at the model size, as the pipeline decodes.
	add("decode JPEG full size (libjpeg-turbo)", false, func(i int) error {
		_, err := imaging.DecodeWith(in.photos[i], imaging.DecodeOptions{})
		return err
	})
	add("decode PNG (image/png)", false, func(i int) error { _, err := imaging.DecodeWith(in.png[i], decodeOpts); return err })
	add("decode GIF (image/gif)", false, func(i int) error { _, err := imaging.DecodeWith(in.gif[i], decodeOpts); return err })
	return cases, own
}

func runPipelineStages(b *testing.B, set pipelineBenchSettings) {
	rep := bench.NewReport("pipeline-stages", "go test -tags onnx -run '^$' -bench PipelineStages -benchtime 1x ./pipeline")
	rt := modeltest.Runtime(b)
	sess, err := rt.Load(set.modelBytes(b),
		inference.Options{Device: inference.DeviceCPU, IntraOpThreads: set.threads[0]})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	in := prepareStageInputs(b, sess, set)
	cases, own := stageCases(sess, set, in)
	series, err := bench.Interleave(context.Background(), bench.Plan{Rounds: set.rounds, MinTime: set.minTime / 2,
		Warmup: 1, Log: os.Stdout, Probe: bench.CPUProbe()}, cases...)
	if err != nil {
		b.Fatal(err)
	}
	cpu := map[string]float64{}
	modelCPU := series[0].ProbeMedian("self")
	var ownCPU, beforeCPU float64
	for i, s := range series {
		c := s.ProbeMedian("self")
		cpu[s.Name] = c
		note := ""
		if i > 0 {
			note = fmt.Sprintf("%.0f%% of the model's CPU per image", 100*c/modelCPU)
		}
		if own[i] {
			ownCPU += c
		}
		if len(s.Name) > 7 && s.Name[:7] == "before:" {
			beforeCPU += c
		}
		rep.Add(s.Name+" CPU", 1000*c, "CPU-ms/image", note)
		rep.AddRounds(s.Name+" wall", benchMillisPer(s.Rates), "ms/image", "one goroutine; the model uses its intra-op threads")
	}
	rep.Add("pipeline's own steps / model", ownCPU/modelCPU, "ratio of CPU",
		"decode + resize + post-process + PNG over model Run, per image (MinIO, broker and S3/Kafka clients not included); goal <= 0.35")
	rep.Add("before: own steps / model", beforeCPU/modelCPU, "ratio of CPU", "the same four steps as before, same run")
	rep.Add("decode + resize per core", 1/(cpu["decode (imaging.Decode)"]+cpu["resize (imaging.ToTensor)"]), "images/s",
		"1 / their CPU seconds per image; goal >= 1000")
	addStageSizes(b, rep, in)
	rep.Notef("model %s, %d photos (mean %.0f pixels), %d intra-op threads; CPU = this process's "+
		"user+system time per image, median over %d rounds", set.modelName(), len(in.photos), meanPixels(in.full),
		set.threads[0], set.rounds)
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

// addStageSizes reports the mask PNG sizes, now and before.
func addStageSizes(b *testing.B, rep *bench.Report, in stageInputs) {
	var now, before float64
	var buf bytes.Buffer
	for i, u := range in.masks {
		buf.Reset()
		if err := u.EncodePNG(&buf); err != nil {
			b.Fatal(err)
		}
		now += float64(buf.Len())
		buf.Reset()
		if err := benchEncodeMaskPNGBefore(&buf, in.oldMasks[i]); err != nil {
			b.Fatal(err)
		}
		before += float64(buf.Len())
	}
	n := float64(len(in.masks))
	rep.Add("mask PNG size, now / before", now/before, "ratio", fmt.Sprintf("%.0f vs %.0f bytes per mask", now/n, before/n))
}

func meanPixels(ds []*imaging.Decoded) float64 {
	var px float64
	for _, d := range ds {
		px += float64(d.Width * d.Height)
	}
	return px / float64(len(ds))
}

// benchMillisPer turns rates per second into milliseconds per unit.
func benchMillisPer(rates []float64) []float64 {
	out := make([]float64, len(rates))
	for i, r := range rates {
		out[i] = 1000 / r
	}
	return out
}

// benchEncodeMaskPNGBefore is the mask PNG as vitseg wrote it before: image/png, 8 bits per pixel, BestSpeed.
func benchEncodeMaskPNGBefore(w io.Writer, m *imaging.Mask) error {
	var maxID uint8
	for _, id := range m.Pix {
		maxID = max(maxID, id)
	}
	pal := make(color.Palette, max(imaging.NumClasses, int(maxID)+1))
	for i := range pal {
		pal[i] = imaging.ClassColor(uint8(i))
	}
	img := &image.Paletted{Pix: m.Pix, Stride: m.Width, Rect: image.Rect(0, 0, m.Width, m.Height), Palette: pal}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, img)
}
