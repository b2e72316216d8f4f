package imaging

import (
	"fmt"
	"math"
)

// MaskFromLogitsResized returns the class ids of one image's logits (classes x height x width, CHW, as
// MaskFromLogits takes them) interpolated bilinearly to w x h, as PyTorch's F.interpolate(mode="bilinear",
// align_corners=False) interpolates, then arg-maxed with MaskFromLogits' rules: the mask at a photo's own size,
// with edges that follow the logits instead of the model's pixel grid.
//
// A photo pixel whose (up to four) source pixels all rank the same class first takes that class without being
// interpolated: a convex combination of logit vectors that all rank class c first ranks c first too. Only the
// pixels along a class edge are interpolated, so the cost is close to that of nearest-neighbour upsampling. With
// three classes a NaN logit in an edge pixel's neighbourhood gives class 0 (MaskFromLogits ranks NaN lowest).
func MaskFromLogitsResized(logits []float32, classes, height, width, w, h int) (*Mask, error) {
	base, err := MaskFromLogits(logits, classes, height, width)
	if err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 || w > math.MaxInt/h {
		return nil, fmt.Errorf("imaging: MaskFromLogitsResized: bad output size %dx%d", w, h)
	}
	if w == width && h == height {
		return base, nil // interpolation at the same size is the identity
	}
	out := NewMask(w, h)
	r := resizer{logits: logits, classes: classes, width: width, plane: height * width, edge: edgeCells(base),
		xs: upsampleTaps(w, width), column: make([]float32, classes*width), scores: make([]float32, classes)}
	for y, ty := range upsampleTaps(h, height) {
		r.row(out.Pix[y*w:][:w], base.Pix[ty.i0*width:][:width], ty)
	}
	return out, nil
}

// resizer holds what MaskFromLogitsResized needs for each output row.
type resizer struct {
	logits                []float32
	classes, width, plane int
	edge                  []bool
	xs                    []linearTap
	column, scores        []float32 // the row's logits interpolated vertically; one pixel's scores
}

// row writes one output row, whose source rows are ty.i0 and ty.i1: src is the arg-max of row ty.i0.
func (r *resizer) row(dst, src []uint8, ty linearTap) {
	cells := r.edge[ty.i0*r.width:][:r.width]
	interpolated := false
	for x, tx := range r.xs {
		if !cells[tx.i0] {
			dst[x] = src[tx.i0]
			continue
		}
		if !interpolated {
			r.interpolateColumn(ty)
			interpolated = true
		}
		dst[x] = r.pixel(tx)
	}
}

// interpolateColumn fills column with the logits between source rows ty.i0 and ty.i1. With three classes it
// holds the differences of classes 1 and 2 from class 0 instead (bilinear interpolation is linear, so the
// differences interpolate to the differences): two planes, not three.
func (r *resizer) interpolateColumn(ty linearTap) {
	w := r.width
	at := func(c, row int) []float32 { return r.logits[c*r.plane+row*w:][:w] }
	if r.classes == 3 {
		t0, b0 := at(0, ty.i0), at(0, ty.i1)
		for c := 1; c < 3; c++ {
			top, bottom, col := at(c, ty.i0), at(c, ty.i1), r.column[(c-1)*w:][:w]
			for i := range col {
				dt, db := top[i]-t0[i], bottom[i]-b0[i]
				col[i] = dt + ty.f*(db-dt)
			}
		}
		return
	}
	for c := range r.classes {
		top, bottom, col := at(c, ty.i0), at(c, ty.i1), r.column[c*w:][:w]
		for i := range col {
			col[i] = top[i] + ty.f*(bottom[i]-top[i])
		}
	}
}

// pixel is the class of the output pixel between source columns tx.i0 and tx.i1 of the interpolated column.
func (r *resizer) pixel(tx linearTap) uint8 {
	w := r.width
	if r.classes == 3 {
		a, b := r.column[tx.i0], r.column[tx.i1]
		d1 := a + tx.f*(b-a)
		a, b = r.column[w+tx.i0], r.column[w+tx.i1]
		d2 := a + tx.f*(b-a)
		// argmax of (0, d1, d2) with ties to the lowest id.
		id, best := uint8(0), float32(0)
		if d1 > best {
			id, best = 1, d1
		}
		if d2 > best {
			id = 2
		}
		return id
	}
	for c := range r.scores {
		a, b := r.column[c*w+tx.i0], r.column[c*w+tx.i1]
		r.scores[c] = a + tx.f*(b-a)
	}
	return argmax(r.scores)
}

// edgeCells marks the source pixels (y, x) whose cell, the pixels (y..y+1, x..x+1) clamped to the mask, holds
// more than one class: the photo pixels interpolated between them must be interpolated; the others take the
// class of the cell.
func edgeCells(m *Mask) []bool {
	w, h := m.Width, m.Height
	edge := make([]bool, w*h)
	for y := range h {
		row, next := m.Pix[y*w:][:w], m.Pix[min(y+1, h-1)*w:][:w]
		for x, id := range row {
			x1 := min(x+1, w-1)
			edge[y*w+x] = row[x1] != id || next[x] != id || next[x1] != id
		}
	}
	return edge
}

// linearTap is one output position's two source positions and the weight of the second.
type linearTap struct {
	i0, i1 int
	f      float32
}

// upsampleTaps returns, for each of n output positions, its source positions among src and the interpolation
// weight, as F.interpolate(mode="bilinear", align_corners=False): source coordinate (x+0.5)*src/n-0.5, clamped
// at the edges.
func upsampleTaps(n, src int) []linearTap {
	taps := make([]linearTap, n)
	scale := float64(src) / float64(n)
	for x := range taps {
		s := max((float64(x)+0.5)*scale-0.5, 0)
		i0 := min(int(s), src-1)
		taps[x] = linearTap{i0: i0, i1: min(i0+1, src-1), f: float32(s - float64(i0))}
	}
	return taps
}

// argmax is the class of the largest score: ties to the lowest id, NaN lower than any number.
func argmax(scores []float32) uint8 {
	best, id := scores[0], 0
	if best != best { // NaN
		best = float32(math.Inf(-1))
	}
	for c, v := range scores[1:] {
		if v > best {
			best, id = v, c+1
		}
	}
	return uint8(id)
}
