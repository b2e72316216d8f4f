package imaging

import (
	"errors"
	"fmt"
	"image"
)

// MaxTensorSize is the largest side ToTensor accepts.
const MaxTensorSize = 1 << 14

// ToTensor resizes img to size x size pixels, ignoring the aspect ratio, and
// writes it into dst as float32 CHW: all size*size red values (row-major),
// then all green, then all blue, each pixel/255 in [0, 1] with no mean/std
// normalisation. len(dst) must be 3*size*size.
//
// Resampling is antialiased bilinear with the pixel-centre convention: the
// weights of golang.org/x/image/draw.BiLinear (a triangle kernel whose
// support is widened by the scale factor when downscaling), which is the
// filter of PIL's Image.resize(BILINEAR) that torchvision's Resize uses on
// PIL images. It runs as two separable fixed-point passes (14-bit weights,
// 16-bit intermediate samples), so the tensor is within 1/255 of that
// filter's 8-bit output and not rounded to 8 bits itself.
//
// Alpha, if img has any, is composited on black, as Decode does.
func ToTensor(img image.Image, size int, dst []float32) error {
	if img == nil {
		return errors.New("imaging: ToTensor: nil image")
	}
	if size <= 0 || size > MaxTensorSize {
		return fmt.Errorf("imaging: ToTensor: size %d out of range 1..%d", size, MaxTensorSize)
	}
	plane := size * size
	if len(dst) != 3*plane {
		return fmt.Errorf("imaging: ToTensor: dst has %d values, want 3*%d*%d = %d", len(dst), size, size, 3*plane)
	}
	b := img.Bounds()
	if b.Empty() {
		return fmt.Errorf("imaging: ToTensor: empty image bounds %v", b)
	}

	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		drawOpaque(rgba, rgba.Rect, img, b.Min)
	}
	resizeRGBAToCHW(rgba, size, dst)
	return nil
}
