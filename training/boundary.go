package training

import (
	"fmt"
	"math"
)

// BoundaryTolerance is the distance, in pixels at the model resolution (128: ~1.5% of the side), within which a
// predicted boundary pixel counts as matching a true one. Masks of another size scale it with their longer side.
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
	return b.AddSized(truth, pred, side, side, b.Tolerance)
}

// AddSized accumulates one pair of w x h masks, matching boundaries within tol pixels.
func (b *BoundaryScore) AddSized(truth, pred []uint8, w, h, tol int) error {
	if len(truth) != w*h || len(pred) != w*h {
		return fmt.Errorf("boundary score: masks of %d and %d pixels, want %dx%d", len(truth), len(pred), w, h)
	}
	tb, pb := boundary(truth, w, h), boundary(pred, w, h)
	m, n := matched(pb, tb, w, h, tol)
	b.predMatched, b.predTotal = b.predMatched+m, b.predTotal+n
	m, n = matched(tb, pb, w, h, tol)
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

// boundary marks the pixels of a w x h mask that have a 4-neighbour of another class.
func boundary(mask []uint8, w, h int) []bool {
	out := make([]bool, len(mask))
	for y := range h {
		for x := range w {
			v := mask[y*w+x]
			out[y*w+x] = x > 0 && mask[y*w+x-1] != v || x < w-1 && mask[y*w+x+1] != v ||
				y > 0 && mask[(y-1)*w+x] != v || y < h-1 && mask[(y+1)*w+x] != v
		}
	}
	return out
}

// matched counts the marked pixels of a, and those of them within tol (Chebyshev) of a marked pixel of b.
func matched(a, b []bool, w, h, tol int) (hits, total int64) {
	near := dilate(b, w, h, tol)
	for i, marked := range a {
		if marked {
			total++
			if near[i] {
				hits++
			}
		}
	}
	return hits, total
}

// dilate marks the pixels within tol (Chebyshev distance) of a marked pixel of b: a square window, applied as a
// row pass and a column pass.
func dilate(b []bool, w, h, tol int) []bool {
	rows := make([]bool, len(b))
	for y := range h {
		line, out := b[y*w:][:w], rows[y*w:][:w]
		for x, v := range line {
			if v {
				for xx := max(x-tol, 0); xx <= min(x+tol, w-1); xx++ {
					out[xx] = true
				}
			}
		}
	}
	near := make([]bool, len(b))
	for y := range h {
		for x, v := range rows[y*w:][:w] {
			if v {
				for yy := max(y-tol, 0); yy <= min(y+tol, h-1); yy++ {
					near[yy*w+x] = true
				}
			}
		}
	}
	return near
}

// Scorer accumulates every mask-quality metric of a set of masks (side x side, or any size with AddSized): the
// confusion matrix (pixel accuracy, IoUs) and the boundary F-score.
type Scorer struct {
	conf     *Confusion
	boundary BoundaryScore
	side     int
}

// NewScorer returns an empty scorer for masks of side x side pixels over classes classes.
func NewScorer(classes, side int) *Scorer {
	return &Scorer{conf: NewConfusion(classes), boundary: BoundaryScore{Tolerance: BoundaryTolerance}, side: side}
}

// Add accumulates one pair of side x side masks.
func (s *Scorer) Add(truth, pred []uint8) error {
	return s.AddSized(truth, pred, s.side, s.side)
}

// AddSized accumulates one pair of w x h masks (a photo's own size): the boundary tolerance is
// BoundaryTolerance scaled from the scorer's side to the longer of w and h.
func (s *Scorer) AddSized(truth, pred []uint8, w, h int) error {
	if err := s.conf.Add(truth, pred); err != nil {
		return err
	}
	tol := int(math.Round(float64(s.boundary.Tolerance) * float64(max(w, h)) / float64(s.side)))
	return s.boundary.AddSized(truth, pred, w, h, tol)
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
