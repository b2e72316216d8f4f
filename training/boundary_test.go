package training

import (
	"math"
	"testing"
)

// disc is a side x side mask of class 0 inside a disc of radius r centred at (cx, cy), class 1 outside.
func disc(side int, cx, cy, r float64) []uint8 {
	m := make([]uint8, side*side)
	for y := range side {
		for x := range side {
			if math.Hypot(float64(x)-cx, float64(y)-cy) > r {
				m[y*side+x] = 1
			}
		}
	}
	return m
}

// blocky is m coarsened to block x block tiles (each tile takes the class of its centre), as a ViT's patches do.
func blocky(m []uint8, side, block int) []uint8 {
	out := make([]uint8, len(m))
	for y := range side {
		for x := range side {
			cy, cx := y/block*block+block/2, x/block*block+block/2
			out[y*side+x] = m[cy*side+cx]
		}
	}
	return out
}

func TestBoundaryScore(t *testing.T) {
	const side = 64
	ref := disc(side, 32, 32, 18)
	big := disc(side, 32, 32, 22) // its 16x16 coarsening is the square 16..48: 6 px inside the circle at the edges
	uniform := make([]uint8, side*side)
	tests := []struct {
		name        string
		truth, pred []uint8
		lo, hi      float64
	}{
		{"identical masks", ref, ref, 1, 1},
		{"shift within the tolerance", ref, disc(side, 33, 33, 18), 1, 1},
		{"shift beyond the tolerance", ref, disc(side, 40, 32, 18), 0.05, 0.6},
		{"nothing predicted", ref, uniform, 0, 0},
		{"no boundary anywhere", uniform, uniform, 1, 1},
		{"16x16 blocks lose most of the boundary", big, blocky(big, side, 16), 0, 0.4},
		{"4x4 blocks keep most of it", big, blocky(big, side, 4), 0.9, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := BoundaryScore{Tolerance: BoundaryTolerance}
			if err := b.Add(tc.truth, tc.pred, side); err != nil {
				t.Fatal(err)
			}
			if f := b.F(); f < tc.lo-1e-12 || f > tc.hi+1e-12 {
				t.Errorf("F = %.4f, want in [%g, %g]", f, tc.lo, tc.hi)
			}
		})
	}
}

func TestBoundaryScoreRejectsSizeMismatch(t *testing.T) {
	var b BoundaryScore
	if err := b.Add(make([]uint8, 16), make([]uint8, 15), 4); err == nil {
		t.Fatal("masks of different sizes accepted")
	}
}

func TestScorerBorderIoU(t *testing.T) {
	// 2x2 masks: truth pet, border, border, background; prediction gets one border pixel right and calls the
	// other pet. Border IoU = 1 / (1 + 1 missed) = 0.5.
	s := NewScorer(3, 2)
	if err := s.Add([]uint8{0, 2, 2, 1}, []uint8{0, 2, 0, 1}); err != nil {
		t.Fatal(err)
	}
	m := s.Metrics()
	if m.BorderIoU != 0.5 || m.ClassIoU["border"] != 0.5 {
		t.Errorf("border IoU %v (class IoU %v), want 0.5", m.BorderIoU, m.ClassIoU["border"])
	}
	if m.PixelAccuracy != 0.75 {
		t.Errorf("pixel accuracy %v, want 0.75", m.PixelAccuracy)
	}
	if m.BoundaryF <= 0 || m.BoundaryF > 1 {
		t.Errorf("boundary F %v out of (0, 1]", m.BoundaryF)
	}
}

// TestDilateMatchesWindowSearch: the two-pass dilation marks exactly the pixels within tol (Chebyshev) of a marked
// pixel, on rectangles of either orientation.
func TestDilateMatchesWindowSearch(t *testing.T) {
	tests := []struct{ w, h, tol int }{{37, 20, 2}, {20, 37, 3}, {9, 9, 0}, {5, 40, 8}}
	for _, tc := range tests {
		b := make([]bool, tc.w*tc.h)
		for i := range b {
			b[i] = (i*7919)%23 == 0
		}
		got := dilate(b, tc.w, tc.h, tc.tol)
		for y := range tc.h {
			for x := range tc.w {
				want := false
				for yy := max(y-tc.tol, 0); yy <= min(y+tc.tol, tc.h-1); yy++ {
					for xx := max(x-tc.tol, 0); xx <= min(x+tc.tol, tc.w-1); xx++ {
						want = want || b[yy*tc.w+xx]
					}
				}
				if got[y*tc.w+x] != want {
					t.Fatalf("%dx%d tol %d: pixel (%d,%d) = %v, want %v", tc.w, tc.h, tc.tol, x, y, got[y*tc.w+x], want)
				}
			}
		}
	}
}

// TestScorerAtPhotoSize: a w x h pair is scored over all its pixels, with the tolerance scaled to its longer side.
func TestScorerAtPhotoSize(t *testing.T) {
	const w, h = 256, 192
	truth := make([]uint8, w*h)
	pred := make([]uint8, w*h)
	for y := range h {
		for x := range w {
			if x >= 100 {
				truth[y*w+x] = 1
			}
			if x >= 103 { // 3 px off: within the 4 px tolerance at 256 (2 at 128), beyond 2
				pred[y*w+x] = 1
			}
		}
	}
	s := NewScorer(2, 128)
	if err := s.AddSized(truth, pred, w, h); err != nil {
		t.Fatal(err)
	}
	m := s.Metrics()
	if m.Pixels != w*h {
		t.Errorf("%d pixels scored, want %d", m.Pixels, w*h)
	}
	if m.BoundaryF != 1 {
		t.Errorf("boundary F %.3f, want 1 (3 px is within the scaled tolerance)", m.BoundaryF)
	}
	if want := 1 - 3.0/w; math.Abs(m.PixelAccuracy-want) > 1e-9 {
		t.Errorf("pixel accuracy %.5f, want %.5f", m.PixelAccuracy, want)
	}
}
