package training

import "math/rand/v2"

// Augmentation is the article's training-time augmentation: a random horizontal flip applied to image and mask
// together, and torchvision's ColorJitter(contrast=c): each image is blended with the mean of its grayscale
// version by a factor drawn uniformly from [1-c, 1+c], then clamped to [0, 1].
type Augmentation struct {
	HFlip    bool
	Contrast float64
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
	for y := range size {
		for x := range size {
			sx := x
			if flip {
				sx = size - 1 - x
			}
			src, dst := y*size+sx, y*size+x
			mask[dst] = ex.Mask[src]
			for c := range 3 {
				v := ex.Image[c*plane+src]
				if factor != 1 {
					v = min(max(factor*v+(1-factor)*grayMean, 0), 1)
				}
				img[c*plane+dst] = v
			}
		}
	}
}
