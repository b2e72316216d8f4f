package training

import (
	"fmt"
	"math"
)

// BoundaryTolerance is the distance, in pixels at the model resolution (128: ~1.5% of the side), within which a
// predicted boundary pixel counts as matching a true one.
const BoundaryTolerance = 2

// BoundaryScore accumulates the boundary F-score of segmentation masks (Csurka et al., BMVC 2013; the F measure
// of the DAVIS benchmark): the boundary of a mask is its pixels with a 4-neighbour of another class; precision
// is the share of predicted boundary pixels within Tolerance (Chebyshev distance) of a true boundary pixel,
// recall the share of true boundary pixels within Tolerance of a predicted one, both summed over all masks added.
// It scores what pixel accuracy barely sees: the blocky 16x16 edges of the ViT's patches.
type BoundaryScore struct {
	Tolerance                int
	predMatched, predTotal   int64
	truthMatched, truthTotal int64
}

// Add accumulates one pair of side x side masks.
func (b *BoundaryScore) Add(truth, pred []uint8, side int) error {
	if len(truth) != side*side || len(pred) != side*side {
		return fmt.Errorf("boundary score: masks of %d and %d pixels, want %dx%d", len(truth), len(pred), side, side)
	}
	tb, pb := boundary(truth, side), boundary(pred, side)
	m, n := matched(pb, tb, side, b.Tolerance)
	b.predMatched, b.predTotal = b.predMatched+m, b.predTotal+n
	m, n = matched(tb, pb, side, b.Tolerance)
	b.truthMatched, b.truthTotal = b.truthMatched+m, b.truthTotal+n
	return nil
}

// F is the harmonic mean of boundary precision and recall; 1 when neither mask has a boundary.
func (b *BoundaryScore) F() float64 {
	if b.predTotal == 0 && b.truthTotal == 0 {
		return 1
	}
	if b.predTotal == 0 || b.truthTotal == 0 {
		return 0
	}
	p := float64(b.predMatched) / float64(b.predTotal)
	r := float64(b.truthMatched) / float64(b.truthTotal)
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// boundary marks the pixels of a side x side mask that have a 4-neighbour of another class.
func boundary(mask []uint8, side int) []bool {
	out := make([]bool, len(mask))
	for y := range side {
		for x := range side {
			v := mask[y*side+x]
			out[y*side+x] = x > 0 && mask[y*side+x-1] != v || x < side-1 && mask[y*side+x+1] != v ||
				y > 0 && mask[(y-1)*side+x] != v || y < side-1 && mask[(y+1)*side+x] != v
		}
	}
	return out
}

// matched counts the marked pixels of a, and those of them within tol (Chebyshev) of a marked pixel of b.
func matched(a, b []bool, side, tol int) (hits, total int64) {
	for y := range side {
		for x := range side {
			if !a[y*side+x] {
				continue
			}
			total++
			if near(b, side, x, y, tol) {
				hits++
			}
		}
	}
	return hits, total
}

func near(b []bool, side, x, y, tol int) bool {
	for yy := max(y-tol, 0); yy <= min(y+tol, side-1); yy++ {
		for xx := max(x-tol, 0); xx <= min(x+tol, side-1); xx++ {
			if b[yy*side+xx] {
				return true
			}
		}
	}
	return false
}

// Scorer accumulates every mask-quality metric of a set of square masks: the confusion matrix (pixel accuracy,
// IoUs) and the boundary F-score.
type Scorer struct {
	conf     *Confusion
	boundary BoundaryScore
	side     int
}

// NewScorer returns an empty scorer for masks of side x side pixels over classes classes.
func NewScorer(classes, side int) *Scorer {
	return &Scorer{conf: NewConfusion(classes), boundary: BoundaryScore{Tolerance: BoundaryTolerance}, side: side}
}

// Add accumulates one pair of masks.
func (s *Scorer) Add(truth, pred []uint8) error {
	if err := s.conf.Add(truth, pred); err != nil {
		return err
	}
	return s.boundary.Add(truth, pred, s.side)
}

// Metrics returns the accumulated metrics.
func (s *Scorer) Metrics() Metrics {
	m := s.conf.Metrics()
	m.BoundaryF = s.boundary.F()
	if math.IsNaN(m.BoundaryF) {
		m.BoundaryF = 0
	}
	return m
}
