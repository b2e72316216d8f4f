package training

import (
	"math"
	"math/rand/v2"
)

// Augmentation is the article's training-time augmentation: a random horizontal flip applied to image and mask
// together, and torchvision's ColorJitter(contrast=c): each image is blended with the mean of its grayscale
// version by a factor drawn uniformly from [1-c, 1+c], then clamped to [0, 1]. CropScale, off by default (not in
// the article's recipe), adds a random crop of side [CropScale, 1] x the image, resized back (bilinear for the
// image, nearest for the mask), applied to image and mask together.
type Augmentation struct {
	HFlip     bool
	Contrast  float64
	CropScale float64 // 0 or 1: no crop
}

// Apply writes the augmented copy of ex into img and mask (sizes as ex), drawing from r.
func (a Augmentation) Apply(r *rand.Rand, ex Example, size int, img []float32, mask []uint8) {
	flip := a.HFlip && r.IntN(2) == 1
	factor := float32(1)
	if a.Contrast > 0 {
		factor = float32(1 - a.Contrast + 2*a.Contrast*r.Float64())
	}
	plane := size * size
	var grayMean float32
	if factor != 1 {
		var sum float64
		for i := range plane {
			sum += 0.299*float64(ex.Image[i]) + 0.587*float64(ex.Image[plane+i]) + 0.114*float64(ex.Image[2*plane+i])
		}
		grayMean = float32(sum / float64(plane))
	}
	// The crop window, in source pixels: side s at (x0, y0). Without a crop it is the whole image.
	side, x0, y0 := float64(size), 0.0, 0.0
	if a.CropScale > 0 && a.CropScale < 1 {
		side = float64(size) * (a.CropScale + (1-a.CropScale)*r.Float64())
		x0 = r.Float64() * (float64(size) - side)
		y0 = r.Float64() * (float64(size) - side)
	}
	step := side / float64(size)
	for y := range size {
		sy := y0 + (float64(y)+0.5)*step - 0.5
		for x := range size {
			dx := x
			if flip {
				dx = size - 1 - x
			}
			sx := x0 + (float64(dx)+0.5)*step - 0.5
			dst := y*size + x
			mask[dst] = ex.Mask[clampIndex(sy+0.5, size)*size+clampIndex(sx+0.5, size)]
			for c := range 3 {
				v := bilinear(ex.Image[c*plane:(c+1)*plane], size, sx, sy)
				if factor != 1 {
					v = min(max(factor*v+(1-factor)*grayMean, 0), 1)
				}
				img[c*plane+dst] = v
			}
		}
	}
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
