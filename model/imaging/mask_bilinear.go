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
// pixels along a class edge are interpolated, so the cost is close to that of nearest-neighbour upsampling.
func MaskFromLogitsResized(logits []float32, classes, height, width, w, h int) (*Mask, error) {
	base, err := MaskFromLogits(logits, classes, height, width)
	if err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 || w > math.MaxInt/h {
		return nil, fmt.Errorf("imaging: MaskFromLogitsResized: bad output size %dx%d", w, h)
	}
	out := NewMask(w, h)
	edge := edgeCells(base)
	xs := upsampleTaps(w, width)
	scores := make([]float32, classes)
	column := make([]float32, classes*width) // the logits of the current output row, interpolated vertically
	plane := height * width
	for y, ty := range upsampleTaps(h, height) {
		src := base.Pix[ty.i0*width:][:width]
		cells := edge[ty.i0*width:][:width]
		dst := out.Pix[y*w:][:w]
		interpolated := false
		for x, tx := range xs {
			if !cells[tx.i0] {
				dst[x] = src[tx.i0]
				continue
			}
			if !interpolated {
				for c := range classes {
					top, bottom := logits[c*plane+ty.i0*width:][:width], logits[c*plane+ty.i1*width:][:width]
					col := column[c*width:][:width]
					for i := range col {
						col[i] = top[i] + ty.f*(bottom[i]-top[i])
					}
				}
				interpolated = true
			}
			for c := range scores {
				a, b := column[c*width+tx.i0], column[c*width+tx.i1]
				scores[c] = a + tx.f*(b-a)
			}
			dst[x] = argmax(scores)
		}
	}
	return out, nil
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
