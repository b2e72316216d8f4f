package imaging

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveResizedMask interpolates every pixel's logits (no shortcut) with the formula of F.interpolate.
func naiveResizedMask(logits []float32, classes, height, width, w, h int) []uint8 {
	coord := func(o, n, src int) (int, int, float64) {
		s := math.Max((float64(o)+0.5)*float64(src)/float64(n)-0.5, 0)
		i0 := min(int(math.Floor(s)), src-1)
		return i0, min(i0+1, src-1), s - float64(i0)
	}
	out := make([]uint8, w*h)
	scores := make([]float32, classes)
	for y := range h {
		y0, y1, fy := coord(y, h, height)
		for x := range w {
			x0, x1, fx := coord(x, w, width)
			for c := range classes {
				l := func(yy, xx int) float64 { return float64(logits[(c*height+yy)*width+xx]) }
				scores[c] = float32((1-fy)*((1-fx)*l(y0, x0)+fx*l(y0, x1)) + fy*((1-fx)*l(y1, x0)+fx*l(y1, x1)))
			}
			out[y*w+x] = argmax(scores)
		}
	}
	return out
}

// smoothLogits are logits as a model's: one blob per class over a background level of 0.5 for class 1 (a pet,
// its border and the background), with a little noise: large same-class regions and their edges.
func smoothLogits(r *rand.Rand, classes, side int) []float32 {
	l := make([]float32, classes*side*side)
	for c := range classes {
		cx, cy, s := r.Float64()*float64(side), r.Float64()*float64(side), float64(side)/3
		level := 0.0
		if c == 1 {
			level = 0.5
		}
		for y := range side {
			for x := range side {
				d := math.Hypot(float64(x)-cx, float64(y)-cy) / s
				l[(c*side+y)*side+x] = float32(level + 2*math.Exp(-d*d) + 0.05*r.NormFloat64())
			}
		}
	}
	return l
}

func TestMaskFromLogitsResized(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	tests := []struct {
		name                string
		classes, side, w, h int
		noise               bool
	}{
		{"photo size", 3, 128, 500, 375, false},
		{"portrait", 3, 128, 333, 500, false},
		{"same size", 3, 16, 16, 16, false},
		{"smaller than the model", 3, 128, 100, 60, false},
		{"noise (every pixel an edge)", 3, 16, 50, 41, true},
		{"one class", 1, 8, 20, 20, false},
		{"one source pixel", 3, 1, 7, 5, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logits := smoothLogits(r, tc.classes, tc.side)
			if tc.noise {
				for i := range logits {
					logits[i] = float32(r.NormFloat64())
				}
			}
			got, err := MaskFromLogitsResized(logits, tc.classes, tc.side, tc.side, tc.w, tc.h)
			if err != nil {
				t.Fatal(err)
			}
			if got.Width != tc.w || got.Height != tc.h {
				t.Fatalf("mask %dx%d, want %dx%d", got.Width, got.Height, tc.w, tc.h)
			}
			want := naiveResizedMask(logits, tc.classes, tc.side, tc.side, tc.w, tc.h)
			diff := 0
			for i := range want {
				if got.Pix[i] != want[i] {
					diff++
				}
			}
			// float32 rounding may flip a pixel whose two best scores tie to the last bit.
			if diff > len(want)/10000 {
				t.Errorf("%d of %d pixels differ from interpolating every pixel", diff, len(want))
			}
		})
	}
}

func TestMaskFromLogitsResizedSameSizeIsArgmax(t *testing.T) {
	logits := smoothLogits(rand.New(rand.NewPCG(1, 1)), 3, 32)
	base, err := MaskFromLogits(logits, 3, 32, 32)
	if err != nil {
		t.Fatal(err)
	}
	got, err := MaskFromLogitsResized(logits, 3, 32, 32, 32, 32)
	if err != nil {
		t.Fatal(err)
	}
	for i := range base.Pix {
		if got.Pix[i] != base.Pix[i] {
			t.Fatalf("pixel %d: %d, want the arg-max %d", i, got.Pix[i], base.Pix[i])
		}
	}
}

func TestMaskFromLogitsResizedErrors(t *testing.T) {
	tests := []struct {
		name   string
		logits int
		w, h   int
	}{
		{"short logits", 3*4*4 - 1, 10, 10},
		{"zero width", 3 * 4 * 4, 0, 10},
		{"negative height", 3 * 4 * 4, 10, -1},
	}
	for _, tc := range tests {
		if _, err := MaskFromLogitsResized(make([]float32, tc.logits), 3, 4, 4, tc.w, tc.h); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func BenchmarkMaskFromLogitsResized(b *testing.B) {
	logits := smoothLogits(rand.New(rand.NewPCG(2, 3)), 3, 128)
	b.Run("bilinear 500x375", func(b *testing.B) {
		for b.Loop() {
			if _, err := MaskFromLogitsResized(logits, 3, 128, 128, 500, 375); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nearest 500x375", func(b *testing.B) {
		for b.Loop() {
			m, err := MaskFromLogits(logits, 3, 128, 128)
			if err != nil {
				b.Fatal(err)
			}
			ResizeMask(m, 500, 375)
		}
	})
}
