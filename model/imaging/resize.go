package imaging

import (
	"image"
	"math"
)

// weightBits is the fixed-point precision of the resize weights: each
// output sample's weights sum to exactly 1<<weightBits.
const weightBits = 14

// taps are the source positions and fixed-point weights of one output
// column (or row): out = sum(w[k] * in[first+k]) >> weightBits.
type taps struct {
	first int
	w     []int32
}

// bilinearTaps returns, for each of dst outputs, the taps over src inputs of
// golang.org/x/image/draw.BiLinear: a triangle kernel at pixel centres whose
// support is widened by the scale factor when shrinking (antialiasing), and
// whose weights are renormalised at the borders. The float64 weights are
// computed exactly as there and then rounded to fixed point, the rounding
// error going to the largest weight so that every sum is exact.
func bilinearTaps(dst, src int) []taps {
	scale := float64(src) / float64(dst)
	halfWidth, argScale := 1.0, 1.0
	if scale > 1 {
		halfWidth, argScale = scale, 1/scale
	}
	out := make([]taps, dst)
	all := make([]int32, 0, dst*(int(2*halfWidth)+3))
	fw := make([]float64, 0, int(2*halfWidth)+3)
	for x := range out {
		center := (float64(x)+0.5)*scale - 0.5
		lo := max(int(math.Floor(center-halfWidth)), 0)
		hi := min(int(math.Ceil(center+halfWidth)), src)
		fw, first, total := fw[:0], -1, 0.0
		for k := lo; k < hi; k++ {
			t := math.Abs((center - float64(k)) * argScale)
			if t >= 1 {
				if first >= 0 {
					fw = append(fw, 0) // keep the taps contiguous
				}
				continue
			}
			if first < 0 {
				first = k
			}
			fw = append(fw, 1-t)
			total += 1 - t
		}
		for len(fw) > 0 && fw[len(fw)-1] == 0 {
			fw = fw[:len(fw)-1]
		}
		if len(fw) == 0 { // cannot happen for src, dst >= 1; nearest pixel as a guard
			first, fw, total = min(max(int(math.Round(center)), 0), src-1), append(fw, 1), 1
		}
		start := len(all)
		sum, big := int32(0), 0
		for k, v := range fw {
			q := int32(math.Round(v / total * (1 << weightBits)))
			all = append(all, q)
			sum += q
			if q > all[start+big] {
				big = k
			}
		}
		all[start+big] += 1<<weightBits - sum
		out[x] = taps{first: first, w: all[start:len(all):len(all)]}
	}
	return out
}

// resizeRGBAToCHW resizes src to size x size with bilinearTaps in both
// directions and writes dst as float32 CHW planes in [0, 1]. The passes
// are separable and integer-only: horizontal from the 8-bit pixels into
// 16-bit samples (8 fractional bits), then vertical into the planes.
func resizeRGBAToCHW(src *image.RGBA, size int, dst []float32) {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	xt, yt := bilinearTaps(size, sw), bilinearTaps(size, sh)
	// Horizontal pass over the source rows the vertical taps use (all of
	// them unless upscaling), channel-interleaved: rows[y][3*x+c].
	rows := make([]uint16, sh*3*size)
	for y := range sh {
		in := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:4*sw]
		out := rows[y*3*size:][:3*size]
		for x, t := range xt {
			var r, g, bl int32
			p := in[4*t.first:]
			for k, w := range t.w {
				q := p[4*k : 4*k+3 : 4*k+3]
				r += w * int32(q[0])
				g += w * int32(q[1])
				bl += w * int32(q[2])
			}
			const round = 1 << (weightBits - 8 - 1)
			o := out[3*x : 3*x+3 : 3*x+3]
			o[0] = uint16((r + round) >> (weightBits - 8))
			o[1] = uint16((g + round) >> (weightBits - 8))
			o[2] = uint16((bl + round) >> (weightBits - 8))
		}
	}
	plane := size * size
	pr, pg, pb := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	acc := make([]int32, 3*size)
	// A division, not a multiplication by the reciprocal: v<<22 / 255<<22 is
	// then exactly float32(v)/255 for an unresampled 8-bit value v.
	const norm = float32(255 << (8 + weightBits))
	for y, t := range yt {
		clear(acc)
		for k, w := range t.w {
			row := rows[(t.first+k)*3*size:][:3*size]
			for i, v := range row {
				acc[i] += w * int32(v)
			}
		}
		o := y * size
		for x := range size {
			a := acc[3*x : 3*x+3 : 3*x+3]
			pr[o+x] = float32(a[0]) / norm
			pg[o+x] = float32(a[1]) / norm
			pb[o+x] = float32(a[2]) / norm
		}
	}
}
