package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/vitseg/vitseg/bench"
)

// jpegCandidate is one way to decode a JPEG for the model.
type jpegCandidate struct {
	name   string
	decode func(data []byte, h turboHeader) (image.Image, error)
}

func jpegCandidates(minSide int) []jpegCandidate {
	scales := turboScales()
	turbo := func(allow func(turboScale) bool, flags int) func([]byte, turboHeader) (image.Image, error) {
		return func(data []byte, h turboHeader) (image.Image, error) {
			return decodeTurbo(data, h, pickTurboScale(h.width, h.height, minSide, scales, allow), turboFlags|flags)
		}
	}
	full := func(turboScale) bool { return false }
	return []jpegCandidate{
		{"image/jpeg, full size (before)", func(data []byte, _ turboHeader) (image.Image, error) {
			return jpeg.Decode(bytes.NewReader(data))
		}},
		{"libjpeg-turbo, full size", turbo(full, 0)},
		{"libjpeg-turbo, 1/2 1/4 1/8 (chosen)", turbo(powerOfTwoScale, 0)},
		{"libjpeg-turbo, any m/8 scale", turbo(nil, 0)},
		{"libjpeg-turbo, 1/2.., fast upsampling", turbo(powerOfTwoScale, turboFastUpsample)},
		{"libjpeg-turbo, 1/2.., fast upsampling + fast DCT", turbo(powerOfTwoScale, turboFastUpsample|turboFastDCT)},
	}
}

// BenchmarkJPEGDecoders compares ways of decoding the Oxford photos for a 128x128 model input, side by side in
// alternating rounds: CPU-ms per image of the decode alone, and how far the resulting tensor (decode + ToTensor)
// lies from the one of the full-size image/jpeg decode, in 8-bit levels (mean and 99th percentile of the
// per-image mean). It is the measurement behind the decoder choice in docs/PERFORMANCE.md §3.
//
//	go test -tags onnx -run '^$' -bench JPEGDecoders -benchtime 1x ./model/imaging
func BenchmarkJPEGDecoders(b *testing.B) {
	const size = 128
	paths, err := filepath.Glob(filepath.Join(datasetDir(b), "images", "*.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	sort.Strings(paths)
	var photos [][]byte
	var hdrs []turboHeader
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		if h, err := readTurboHeader(data); err == nil && !h.cmykLike() && len(photos) < 64 {
			photos, hdrs = append(photos, data), append(hdrs, h)
		}
	}
	cands := jpegCandidates(size)
	for range b.N {
		rep := bench.NewReport("jpeg-decoders", "go test -tags onnx -run '^$' -bench JPEGDecoders -benchtime 1x ./model/imaging")
		var cases []bench.Case
		for _, c := range cands {
			next := 0
			cases = append(cases, bench.Case{Name: c.name, Units: 1, Call: bench.Timed(func(context.Context) error {
				i := next % len(photos)
				next++
				_, err := c.decode(photos[i], hdrs[i])
				return err
			})})
		}
		series, err := bench.Interleave(context.Background(), bench.Plan{Rounds: 3, MinTime: 500e6, Warmup: 1,
			Probe: bench.CPUProbe()}, cases...)
		if err != nil {
			b.Fatal(err)
		}
		for i, s := range series {
			mean, p99 := tensorDistance(b, cands[0], cands[i], photos, hdrs, size)
			rep.Add(s.Name+" CPU", 1000*s.ProbeMedian("self"), "CPU-ms/image", fmt.Sprintf(
				"%.2fx the first; tensor vs image/jpeg full size: mean %.3f levels, p99 of images %.3f",
				s.ProbeMedian("self")/series[0].ProbeMedian("self"), mean, p99))
		}
		rep.Notef("%d Oxford photos, model input %dx%d, CPU of this process, median of 3 rounds", len(photos), size, size)
		rep.Finish()
		if err := rep.WriteTable(os.Stdout); err != nil {
			b.Fatal(err)
		}
	}
}

// tensorDistance returns the mean absolute difference, in 8-bit levels, between the tensors of ref and c over
// the photos, and the 99th percentile of the per-photo means.
func tensorDistance(tb testing.TB, ref, c jpegCandidate, photos [][]byte, hdrs []turboHeader, size int) (float64, float64) {
	a, d := make([]float32, 3*size*size), make([]float32, 3*size*size)
	var perImage []float64
	for i, p := range photos {
		for _, x := range []struct {
			c   jpegCandidate
			dst []float32
		}{{ref, a}, {c, d}} {
			img, err := x.c.decode(p, hdrs[i])
			if err != nil {
				tb.Fatal(err)
			}
			if err := ToTensor(img, size, x.dst); err != nil {
				tb.Fatal(err)
			}
		}
		var sum float64
		for k := range a {
			sum += math.Abs(float64(a[k] - d[k]))
		}
		perImage = append(perImage, 255*sum/float64(len(a)))
	}
	var total float64
	for _, v := range perImage {
		total += v
	}
	return total / float64(len(perImage)), bench.Percentile(perImage, 99)
}
