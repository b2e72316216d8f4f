package inference

import (
	"fmt"
	"slices"
)

// TTA is a test-time augmentation: extra views of each image whose logits are mapped back and added to the
// image's own before the arg-max. It multiplies the model's work by the number of views.
type TTA string

// The test-time augmentations.
const (
	TTANone TTA = "none" // the image alone (the zero value means the same)
	TTAFlip TTA = "flip" // the image and its mirror image (2 views)
)

// TTAs lists the accepted values, for flag usage.
func TTAs() []TTA { return []TTA{TTANone, TTAFlip} }

// ParseTTA returns the augmentation named s ("" is none).
func ParseTTA(s string) (TTA, error) {
	t := TTA(s)
	if t == "" {
		return TTANone, nil
	}
	if !slices.Contains(TTAs(), t) {
		return "", fmt.Errorf("test-time augmentation %q: want one of %v", s, TTAs())
	}
	return t, nil
}

// views is the number of model inputs per image.
func (t TTA) views() int {
	if t == TTAFlip {
		return 2
	}
	return 1
}

// mirrorRows reverses every row of planes (each side x side, concatenated) from src into dst, which may be src.
func mirrorRows(dst, src []float32, side int) {
	for row := 0; row+side <= len(src); row += side {
		s, d := src[row:row+side], dst[row:row+side]
		for i, j := 0, side-1; i <= j; i, j = i+1, j-1 {
			d[i], d[j] = s[j], s[i]
		}
	}
}
