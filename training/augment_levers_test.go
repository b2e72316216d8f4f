package training

import (
	"math"
	"math/rand/v2"
	"testing"
)

// articleAugment is the article's augmentation as first written (flip, then contrast on the whole image): the
// reference that the extended Augmentation must still reproduce bit for bit.
func articleAugment(r *rand.Rand, contrast float64, ex Example, size int, img []float32, mask []uint8) {
	flip := r.IntN(2) == 1
	factor := float32(1 - contrast + 2*contrast*r.Float64())
	plane := size * size
	var sum float64
	for i := range plane {
		sum += 0.299*float64(ex.Image[i]) + 0.587*float64(ex.Image[plane+i]) + 0.114*float64(ex.Image[2*plane+i])
	}
	grayMean := float32(sum / float64(plane))
	for y := range size {
		for x := range size {
			sx := x
			if flip {
				sx = size - 1 - x
			}
			mask[y*size+x] = ex.Mask[y*size+sx]
			for c := range 3 {
				v := ex.Image[c*plane+y*size+sx]
				img[c*plane+y*size+x] = min(max(factor*v+(1-factor)*grayMean, 0), 1)
			}
		}
	}
}

func rampExample(size int) Example {
	ex := Example{Image: make([]float32, 3*size*size), Mask: make([]uint8, size*size)}
	for i := range ex.Image {
		ex.Image[i] = float32((i*7)%23) / 23
	}
	for i := range ex.Mask {
		ex.Mask[i] = uint8(i % 3)
	}
	return ex
}

func TestAugmentationArticleRecipeUnchanged(t *testing.T) {
	const size = 16
	ex := rampExample(size)
	got, gotMask := make([]float32, len(ex.Image)), make([]uint8, len(ex.Mask))
	want, wantMask := make([]float32, len(ex.Image)), make([]uint8, len(ex.Mask))
	for seed := range uint64(16) {
		Augmentation{HFlip: true, Contrast: 0.3}.Apply(rand.New(rand.NewPCG(seed, 3)), ex, size, got, gotMask)
		articleAugment(rand.New(rand.NewPCG(seed, 3)), 0.3, ex, size, want, wantMask)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("seed %d pixel %d: %v, article recipe %v", seed, i, got[i], want[i])
			}
		}
		for i := range gotMask {
			if gotMask[i] != wantMask[i] {
				t.Fatalf("seed %d mask %d: %d, article recipe %d", seed, i, gotMask[i], wantMask[i])
			}
		}
	}
}

func TestDrawWindow(t *testing.T) {
	const size = 64
	tests := []struct {
		name     string
		aug      Augmentation
		minRatio float64 // bounds of w/h
		maxRatio float64
		minSide  float64 // lower bound of max(w, h)
	}{
		{"no crop is the whole image", Augmentation{}, 1, 1, size},
		{"square crop", Augmentation{CropScale: 0.5}, 1, 1, 0.5 * size},
		{"aspect jitter stays in [1/a, a]", Augmentation{CropScale: 0.5, CropAspect: 2}, 0.5, 2, 0.5 * size},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sawNonSquare bool
			for seed := range uint64(64) {
				w := tc.aug.drawWindow(rand.New(rand.NewPCG(seed, 9)), size)
				if w.x0 < 0 || w.y0 < 0 || w.x0+w.w > size+1e-9 || w.y0+w.h > size+1e-9 {
					t.Fatalf("seed %d: window %+v leaves the %dx%d image", seed, w, size, size)
				}
				ratio := w.w / w.h
				if ratio < tc.minRatio-1e-9 || ratio > tc.maxRatio+1e-9 {
					t.Fatalf("seed %d: aspect %.3f outside [%g, %g]", seed, ratio, tc.minRatio, tc.maxRatio)
				}
				if max(w.w, w.h) < tc.minSide-1e-9 {
					t.Fatalf("seed %d: window %gx%g smaller than %g", seed, w.w, w.h, tc.minSide)
				}
				sawNonSquare = sawNonSquare || math.Abs(ratio-1) > 0.05
			}
			if wantJitter := tc.aug.CropAspect > 1; sawNonSquare != wantJitter {
				t.Errorf("non-square windows drawn: %v, want %v", sawNonSquare, wantJitter)
			}
		})
	}
}

func TestWindowRotation(t *testing.T) {
	const size = 8
	tests := []struct {
		name   string
		theta  float64
		mapped func(x, y float64) (float64, float64)
	}{
		{"0 degrees is the identity", 0, func(x, y float64) (float64, float64) { return x, y }},
		{"180 degrees mirrors both axes", math.Pi, func(x, y float64) (float64, float64) { return size - 1 - x, size - 1 - y }},
		{"90 degrees", math.Pi / 2, func(x, y float64) (float64, float64) { return size - 1 - y, x }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := window{w: size, h: size}
			w.sin, w.cos = math.Sincos(tc.theta)
			for y := range size {
				for x := range size {
					sx, sy := w.source(float64(x), float64(y), size)
					wx, wy := tc.mapped(float64(x), float64(y))
					if math.Abs(sx-wx) > 1e-9 || math.Abs(sy-wy) > 1e-9 {
						t.Fatalf("(%d,%d) -> (%.3f,%.3f), want (%g,%g)", x, y, sx, sy, wx, wy)
					}
				}
			}
		})
	}
}

func TestRotationKeepsClassesAndRange(t *testing.T) {
	const size = 16
	ex := rampExample(size)
	img, mask := make([]float32, len(ex.Image)), make([]uint8, len(ex.Mask))
	aug := Augmentation{Rotate: 15, CropScale: 0.7, CropAspect: 1.5}
	var changed bool
	for seed := range uint64(8) {
		aug.Apply(rand.New(rand.NewPCG(seed, 1)), ex, size, img, mask)
		for i, v := range mask {
			if v > 2 {
				t.Fatalf("mask %d = %d: geometry must not invent classes", i, v)
			}
			changed = changed || v != ex.Mask[i]
		}
		for i, v := range img {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %d = %v out of range", i, v)
			}
		}
	}
	if !changed {
		t.Error("rotation and crop left every mask unchanged")
	}
}

func TestShiftHue(t *testing.T) {
	tests := []struct {
		name    string
		in      [3]float32
		shift   float64
		want    [3]float32
		epsilon float64
	}{
		{"red by a third is green", [3]float32{1, 0, 0}, 1.0 / 3, [3]float32{0, 1, 0}, 1e-6},
		{"red by minus a third is blue", [3]float32{1, 0, 0}, -1.0 / 3, [3]float32{0, 0, 1}, 1e-6},
		{"red by half is cyan", [3]float32{1, 0, 0}, 0.5, [3]float32{0, 1, 1}, 1e-6},
		{"a full turn is the identity", [3]float32{0.2, 0.5, 0.9}, 1, [3]float32{0.2, 0.5, 0.9}, 1e-6},
		{"gray has no hue", [3]float32{0.4, 0.4, 0.4}, 0.25, [3]float32{0.4, 0.4, 0.4}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, g, b := shiftHue(tc.in[0], tc.in[1], tc.in[2], tc.shift)
			for i, v := range [3]float32{r, g, b} {
				if math.Abs(float64(v-tc.want[i])) > tc.epsilon {
					t.Fatalf("got (%v, %v, %v), want %v", r, g, b, tc.want)
				}
			}
		})
	}
}

func TestColorJitter(t *testing.T) {
	const size = 4
	plane := size * size
	gray := make([]float32, 3*plane)
	for i := range gray {
		gray[i] = 0.5
	}
	tests := []struct {
		name  string
		aug   Augmentation
		check func(t *testing.T, out []float32)
	}{
		{"brightness scales every channel alike", Augmentation{Brightness: 0.4}, func(t *testing.T, out []float32) {
			for _, v := range out {
				if v != out[0] || v < 0.5*0.6-1e-6 || v > 0.5*1.4+1e-6 {
					t.Fatalf("pixel %v, first %v: want one value in [0.3, 0.7]", v, out[0])
				}
			}
		}},
		{"saturation and hue leave gray alone", Augmentation{Saturation: 0.8, Hue: 0.5}, func(t *testing.T, out []float32) {
			for i, v := range out {
				if v != 0.5 {
					t.Fatalf("pixel %d = %v, want 0.5", i, v)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var distinct = map[float32]bool{}
			for seed := range uint64(8) {
				out := append([]float32(nil), gray...)
				tc.aug.drawColor(rand.New(rand.NewPCG(seed, 2)), gray, size).apply(out, plane)
				tc.check(t, out)
				distinct[out[0]] = true
			}
			if tc.aug.Brightness > 0 && len(distinct) < 2 {
				t.Error("brightness drew the same factor for every seed")
			}
		})
	}
}

func TestSaturationZeroIsGray(t *testing.T) {
	// Saturation factor 0 blends each pixel to its own gray: all three channels equal.
	j := colorJitter{brightness: 1, contrast: 1, saturation: 0}
	img := []float32{0.9, 0.1, 0.3} // one pixel, CHW
	j.apply(img, 1)
	want := float32(0.299*0.9 + 0.587*0.1 + 0.114*0.3)
	for c, v := range img {
		if math.Abs(float64(v-want)) > 1e-6 {
			t.Fatalf("channel %d = %v, want gray %v", c, v, want)
		}
	}
}
