package training

import (
	"math"
	"math/rand/v2"
)

// Augmentation is the training-time augmentation. The article's recipe is a random horizontal flip applied to
// image and mask together, and torchvision's ColorJitter(contrast=c): each image is blended with the mean of its
// grayscale version by a factor drawn uniformly from [1-c, 1+c], then clamped to [0, 1].
//
// The other fields are off at their zero value (not in the article's recipe):
//   - CropScale: a random crop of side [CropScale, 1] x the image, resized back (bilinear for the image, nearest for
//     the mask), applied to image and mask together; CropAspect > 1 also jitters its aspect ratio, drawn
//     log-uniformly from [1/CropAspect, CropAspect] (a random resized crop).
//   - Rotate: a rotation of image and mask by an angle drawn uniformly from [-Rotate, Rotate] degrees.
//   - Brightness, Saturation: ColorJitter's brightness (multiply by [1-b, 1+b]) and saturation (blend each pixel
//     with its own gray by [1-s, 1+s]); Hue: a hue rotation by [-h, h] of a full turn (h at most 0.5).
//
// Geometry is sampled outside the image by clamping to the border pixels.
type Augmentation struct {
	HFlip      bool
	Contrast   float64
	CropScale  float64 // 0 or 1: no crop
	CropAspect float64 // 0 or 1: square crops
	Rotate     float64 // degrees; 0: none
	Brightness float64
	Saturation float64
	Hue        float64
}

// Apply writes the augmented copy of ex into img and mask (sizes as ex), drawing from r. The random draws of the
// article's options come first and in a fixed order, so the added options leave the article's recipe unchanged.
func (a Augmentation) Apply(r *rand.Rand, ex Example, size int, img []float32, mask []uint8) {
	flip := a.HFlip && r.IntN(2) == 1
	jitter := a.drawColor(r, ex.Image, size)
	w := a.drawWindow(r, size)
	plane := size * size
	for y := range size {
		for x := range size {
			dx := x
			if flip {
				dx = size - 1 - x
			}
			sx, sy := w.source(float64(dx), float64(y), size)
			dst := y*size + x
			mask[dst] = ex.Mask[clampIndex(sy+0.5, size)*size+clampIndex(sx+0.5, size)]
			for c := range 3 {
				img[c*plane+dst] = bilinear(ex.Image[c*plane:(c+1)*plane], size, sx, sy)
			}
		}
	}
	jitter.apply(img, plane)
}

// window is the sampled region of the source image: a w x h rectangle at (x0, y0), rotated by theta about its
// centre.
type window struct {
	x0, y0, w, h float64
	sin, cos     float64
}

func (a Augmentation) drawWindow(r *rand.Rand, size int) window {
	s := float64(size)
	win := window{w: s, h: s, cos: 1}
	if a.CropScale > 0 && a.CropScale < 1 {
		side := s * (a.CropScale + (1-a.CropScale)*r.Float64())
		win.w, win.h = side, side
		win.x0 = r.Float64() * (s - side)
		win.y0 = r.Float64() * (s - side)
		if a.CropAspect > 1 {
			aspect := math.Exp((2*r.Float64() - 1) * math.Log(a.CropAspect))
			cx, cy := win.x0+side/2, win.y0+side/2
			win.w, win.h = min(side*math.Sqrt(aspect), s), min(side/math.Sqrt(aspect), s)
			win.x0 = min(max(cx-win.w/2, 0), s-win.w)
			win.y0 = min(max(cy-win.h/2, 0), s-win.h)
		}
	}
	if a.Rotate > 0 {
		theta := (2*r.Float64() - 1) * a.Rotate * math.Pi / 180
		win.sin, win.cos = math.Sincos(theta)
	}
	return win
}

// source maps the output pixel (x, y) of a size x size image to source coordinates (pixel centres at integers).
// Without crop or rotation it is the identity, so the plain path copies the image exactly.
func (w window) source(x, y float64, size int) (float64, float64) {
	s := float64(size)
	if w.sin == 0 {
		return w.x0 + (x+0.5)*(w.w/s) - 0.5, w.y0 + (y+0.5)*(w.h/s) - 0.5
	}
	u, v := ((x+0.5)/s-0.5)*w.w, ((y+0.5)/s-0.5)*w.h
	cx, cy := w.x0+w.w/2, w.y0+w.h/2
	return cx + w.cos*u - w.sin*v - 0.5, cy + w.sin*u + w.cos*v - 0.5
}

func clampIndex(v float64, size int) int {
	return min(max(int(math.Floor(v)), 0), size-1)
}

// bilinear samples a size x size plane at (x, y) in pixel-centre coordinates, clamping at the borders. At integer
// coordinates it returns the pixel exactly, so the un-cropped path copies the image unchanged.
func bilinear(plane []float32, size int, x, y float64) float32 {
	x0f, y0f := math.Floor(x), math.Floor(y)
	fx, fy := float32(x-x0f), float32(y-y0f)
	x0, y0 := clampIndex(x0f, size), clampIndex(y0f, size)
	x1, y1 := clampIndex(x0f+1, size), clampIndex(y0f+1, size)
	top := plane[y0*size+x0]*(1-fx) + plane[y0*size+x1]*fx
	bottom := plane[y1*size+x0]*(1-fx) + plane[y1*size+x1]*fx
	return top*(1-fy) + bottom*fy
}
