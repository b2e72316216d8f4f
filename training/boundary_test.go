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
