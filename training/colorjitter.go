package training

import (
	"math"
	"math/rand/v2"
)

// colorJitter is one draw of the colour augmentation: factors of 1 (and a hue shift of 0) leave the image as is.
type colorJitter struct {
	brightness, contrast, saturation float32
	hue                              float64 // fraction of a full turn
	grayMean                         float32 // mean gray of the source image, for contrast
}

// drawColor draws the colour factors. The contrast factor is drawn first, as in the article's recipe.
func (a Augmentation) drawColor(r *rand.Rand, src []float32, size int) colorJitter {
	j := colorJitter{brightness: 1, contrast: 1, saturation: 1}
	if a.Contrast > 0 {
		j.contrast = float32(1 - a.Contrast + 2*a.Contrast*r.Float64())
	}
	if a.Brightness > 0 {
		j.brightness = float32(1 - a.Brightness + 2*a.Brightness*r.Float64())
	}
	if a.Saturation > 0 {
		j.saturation = float32(1 - a.Saturation + 2*a.Saturation*r.Float64())
	}
	if a.Hue > 0 {
		j.hue = (2*r.Float64() - 1) * a.Hue
	}
	if j.contrast != 1 {
		plane := size * size
		var sum float64
		for i := range plane {
			sum += 0.299*float64(src[i]) + 0.587*float64(src[plane+i]) + 0.114*float64(src[2*plane+i])
		}
		j.grayMean = float32(sum/float64(plane)) * j.brightness
	}
	return j
}

// apply jitters a CHW image in place: brightness, contrast, saturation, hue, each clamped to [0, 1].
func (j colorJitter) apply(img []float32, plane int) {
	if j.brightness == 1 && j.contrast == 1 && j.saturation == 1 && j.hue == 0 {
		return
	}
	for i := range plane {
		r, g, b := img[i], img[plane+i], img[2*plane+i]
		if j.brightness != 1 {
			r, g, b = clamp01(j.brightness*r), clamp01(j.brightness*g), clamp01(j.brightness*b)
		}
		if f := j.contrast; f != 1 {
			m := (1 - f) * j.grayMean
			r, g, b = clamp01(f*r+m), clamp01(f*g+m), clamp01(f*b+m)
		}
		if f := j.saturation; f != 1 {
			m := (1 - f) * (0.299*r + 0.587*g + 0.114*b)
			r, g, b = clamp01(f*r+m), clamp01(f*g+m), clamp01(f*b+m)
		}
		if j.hue != 0 {
			r, g, b = shiftHue(r, g, b, j.hue)
		}
		img[i], img[plane+i], img[2*plane+i] = r, g, b
	}
}

func clamp01(v float32) float32 { return min(max(v, 0), 1) }

// shiftHue rotates the hue of an RGB pixel by shift turns, through HSV (as torchvision's adjust_hue).
func shiftHue(r, g, b float32, shift float64) (float32, float32, float32) {
	mx, mn := max(r, g, b), min(r, g, b)
	if mx == mn {
		return r, g, b // gray: no hue
	}
	d := float64(mx - mn)
	var h float64
	switch mx {
	case r:
		h = float64(g-b) / d
	case g:
		h = 2 + float64(b-r)/d
	default:
		h = 4 + float64(r-g)/d
	}
	h = math.Mod(h/6+shift+2, 1) * 6
	v, s := float64(mx), d/float64(mx)
	sector := math.Floor(h)
	f := h - sector
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	var rr, gg, bb float64
	switch int(sector) % 6 {
	case 0:
		rr, gg, bb = v, t, p
	case 1:
		rr, gg, bb = q, v, p
	case 2:
		rr, gg, bb = p, v, t
	case 3:
		rr, gg, bb = p, q, v
	case 4:
		rr, gg, bb = t, p, v
	default:
		rr, gg, bb = v, p, q
	}
	return float32(rr), float32(gg), float32(bb)
}
