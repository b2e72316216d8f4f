package training

import (
	"math/rand/v2"
	"testing"
)

func TestAugmentation(t *testing.T) {
	const size = 8
	ex := Example{Image: make([]float32, 3*size*size), Mask: make([]uint8, size*size)}
	for i := range ex.Image {
		ex.Image[i] = float32(i%size) / size // a horizontal ramp in every channel
	}
	for y := range size {
		for x := range size {
			if x < size/2 {
				ex.Mask[y*size+x] = 1
			}
		}
	}
	img, mask := make([]float32, len(ex.Image)), make([]uint8, len(ex.Mask))
	tests := []struct {
		name  string
		aug   Augmentation
		check func(t *testing.T)
	}{
		{"none copies exactly", Augmentation{}, func(t *testing.T) {
			for i := range img {
				if img[i] != ex.Image[i] {
					t.Fatalf("pixel %d = %v, want %v", i, img[i], ex.Image[i])
				}
			}
		}},
		{"flip moves image and mask together", Augmentation{HFlip: true}, func(t *testing.T) {
			flipped := img[0] != ex.Image[0]
			for y := range size {
				for x := range size {
					sx := x
					if flipped {
						sx = size - 1 - x
					}
					if img[y*size+x] != ex.Image[y*size+sx] || mask[y*size+x] != ex.Mask[y*size+sx] {
						t.Fatalf("(%d,%d): image and mask not flipped together", x, y)
					}
				}
			}
		}},
		{"contrast stays in [0, 1]", Augmentation{Contrast: 0.9}, func(t *testing.T) {
			for i, v := range img {
				if v < 0 || v > 1 {
					t.Fatalf("pixel %d = %v out of range", i, v)
				}
			}
		}},
		{"crop keeps mask values and image range", Augmentation{CropScale: 0.5}, func(t *testing.T) {
			for i, v := range mask {
				if v > 1 {
					t.Fatalf("mask %d = %d: a crop must not invent classes", i, v)
				}
			}
			for i, v := range img {
				if v < 0 || v > 1 {
					t.Fatalf("pixel %d = %v out of range", i, v)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(8) {
				tc.aug.Apply(rand.New(rand.NewPCG(seed, 1)), ex, size, img, mask)
				tc.check(t)
			}
		})
	}
}
