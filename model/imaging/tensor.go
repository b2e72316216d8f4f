package imaging

import (
	"errors"
	"fmt"
	"image"

	xdraw "golang.org/x/image/draw"
)

// MaxTensorSize is the largest side ToTensor accepts.
const MaxTensorSize = 1 << 14

// ToTensor resizes img to size x size pixels, ignoring the aspect ratio, and
// writes it into dst as float32 CHW: all size*size red values (row-major),
// then all green, then all blue, each pixel/255 in [0, 1] with no mean/std
// normalisation. len(dst) must be 3*size*size.
//
// Resampling is golang.org/x/image/draw.BiLinear: a triangle kernel whose
// support is widened by the scale factor when downscaling, i.e. antialiased
// bilinear with the pixel-centre convention. That is the filter of PIL's
// Image.resize(BILINEAR), which torchvision's Resize uses on PIL images, so
// the tensor matches the reference pre-processing up to 8-bit rounding (the
// resampled image is stored as 8-bit RGBA before the division by 255).
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
	if !ok || b.Dx() != size || b.Dy() != size {
		rgba = image.NewRGBA(image.Rect(0, 0, size, size))
		xdraw.BiLinear.Scale(rgba, rgba.Rect, img, b, xdraw.Src, nil)
	}

	r, g, bl := dst[:plane], dst[plane:2*plane], dst[2*plane:]
	for y := range size {
		row := rgba.Pix[rgba.PixOffset(rgba.Rect.Min.X, rgba.Rect.Min.Y+y):][:4*size]
		o := y * size
		for x := range size {
			p := row[4*x : 4*x+3 : 4*x+3]
			r[o+x] = float32(p[0]) / 255
			g[o+x] = float32(p[1]) / 255
			bl[o+x] = float32(p[2]) / 255
		}
	}
	return nil
}
