package imaging

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"

	"github.com/vitseg/vitseg/model"
)

// Class ids of the segmentation masks (the Oxford-IIIT Pet trimap values
// minus one).
const (
	ClassPet        = uint8(model.ClassPet)
	ClassBackground = uint8(model.ClassBackground)
	ClassBorder     = uint8(model.ClassBorder)
	// NumClasses is the number of classes the model predicts.
	NumClasses = model.NumClasses
)

// ClassColor returns the display colour of class id in mask PNGs and
// overlays: pet orange, background dark blue, border white. Ids beyond the
// known classes get distinct, deterministic opaque colours.
func ClassColor(id uint8) color.RGBA {
	switch id {
	case ClassPet:
		return color.RGBA{R: 255, G: 140, B: 0, A: 255}
	case ClassBackground:
		return color.RGBA{R: 20, G: 30, B: 90, A: 255}
	case ClassBorder:
		return color.RGBA{R: 255, G: 255, B: 255, A: 255}
	default:
		return color.RGBA{R: id * 67, G: id*151 + 40, B: id*211 + 80, A: 255}
	}
}

// Mask is a per-pixel class map: Pix[y*Width+x] is the class id of (x, y).
type Mask struct {
	Width, Height int
	Pix           []uint8
}

// NewMask returns a zeroed (all ClassPet) mask of w x h pixels.
func NewMask(w, h int) *Mask {
	return &Mask{Width: w, Height: h, Pix: make([]uint8, w*h)}
}

// valid reports whether m is non-nil, non-empty and consistent.
func (m *Mask) valid() error {
	switch {
	case m == nil:
		return errors.New("nil mask")
	case m.Width <= 0 || m.Height <= 0:
		return fmt.Errorf("mask dimensions %dx%d are not positive", m.Width, m.Height)
	case m.Width > math.MaxInt/m.Height || len(m.Pix) != m.Width*m.Height:
		return fmt.Errorf("mask has %d pixels, want %dx%d", len(m.Pix), m.Width, m.Height)
	}
	return nil
}

// ResizeMask resizes m to w x h with nearest-neighbour sampling (pixel
// centres, as PIL's NEAREST), so class ids are never blended. It returns nil
// when m is not a valid mask or w or h is not positive.
func ResizeMask(m *Mask, w, h int) *Mask {
	if m.valid() != nil || w <= 0 || h <= 0 || w > math.MaxInt/h {
		return nil
	}
	out := NewMask(w, h)
	xs := nearestIndex(w, m.Width)
	for y, sy := range nearestIndex(h, m.Height) {
		src := m.Pix[sy*m.Width:][:m.Width]
		dst := out.Pix[y*w:][:w]
		for x, sx := range xs {
			dst[x] = src[sx]
		}
	}
	return out
}

// MaskFromLogits returns the argmax over the class axis of one image's
// logits laid out (classes, height, width), i.e. CHW. Ties go to the lowest
// class id; NaN counts as lower than any number, so an all-NaN pixel gets
// class 0. classes must be in 1..256.
func MaskFromLogits(logits []float32, classes, height, width int) (*Mask, error) {
	if classes < 1 || classes > 256 {
		return nil, fmt.Errorf("imaging: MaskFromLogits: classes %d out of range 1..256", classes)
	}
	if height <= 0 || width <= 0 || width > math.MaxInt/height/classes {
		return nil, fmt.Errorf("imaging: MaskFromLogits: bad mask size %dx%d", width, height)
	}
	plane := height * width
	if len(logits) != classes*plane {
		return nil, fmt.Errorf("imaging: MaskFromLogits: got %d logits, want %d*%d*%d = %d",
			len(logits), classes, height, width, classes*plane)
	}
	m := NewMask(width, height)
	for i := range m.Pix {
		best, id := logits[i], 0
		if best != best { // NaN
			best = float32(math.Inf(-1))
		}
		for c := 1; c < classes; c++ {
			if v := logits[c*plane+i]; v > best {
				best, id = v, c
			}
		}
		m.Pix[i] = uint8(id)
	}
	return m, nil
}

// maskPalette returns the palette for a mask whose largest id is maxID: at
// least NumClasses entries, so that the known classes always have their
// colours, and one entry per id present.
func maskPalette(maxID uint8) color.Palette {
	n := max(NumClasses, int(maxID)+1)
	p := make(color.Palette, n)
	for i := range p {
		p[i] = ClassColor(uint8(i))
	}
	return p
}

// DecodeMaskPNG reads a mask PNG: a paletted PNG (any bit depth), whose
// indices are the class ids, such as EncodeMaskPNG writes, or an 8-bit
// grayscale PNG whose values are taken as-is (Oxford-IIIT trimaps hold
// 1..3 and need one subtracted to become class ids). The input is bounded by
// DefaultLimits and refusals are *Error, as for Decode.
func DecodeMaskPNG(r io.Reader) (*Mask, error) {
	lim := DefaultLimits()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("imaging: reading mask PNG: %w", err)
	}
	switch {
	case len(data) == 0:
		return nil, newError(KindEmpty, nil, "no bytes")
	case int64(len(data)) > lim.MaxBytes:
		return nil, newError(KindTooLarge, nil, "more than %d bytes", lim.MaxBytes)
	case Sniff(data) != FormatPNG:
		return nil, newError(KindUnknownFormat, nil, "mask is not a PNG: %s", describeUnknown(data))
	}
	cfg, err := decodeConfig(FormatPNG, data)
	if err != nil {
		return nil, err
	}
	if err := checkDimensions(FormatPNG, cfg.Width, cfg.Height, lim.MaxPixels); err != nil {
		return nil, err
	}
	// IHDR is the first chunk (DecodeConfig checked it): bytes 24 and 25 are
	// the bit depth and colour type. Gray PNGs below 8 bits are rescaled by
	// the decoder, which would change the ids, so only 8-bit gray is taken.
	depth, colorType := data[24], data[25]
	const ctGray, ctPaletted = 0, 3
	if colorType != ctPaletted && !(colorType == ctGray && depth == 8) {
		return nil, newError(KindUnknownFormat, nil,
			"mask PNG must be paletted or 8-bit gray, has colour type %d depth %d", colorType, depth)
	}
	img, err := decodeImage(FormatPNG, data)
	if err != nil {
		return nil, err
	}
	var pix []uint8
	var stride int
	switch p := img.(type) {
	case *image.Paletted:
		pix, stride = p.Pix, p.Stride
	case *image.Gray:
		pix, stride = p.Pix, p.Stride
	default:
		return nil, newError(KindCorrupt, nil, "mask PNG decoded as %T", img)
	}
	m := NewMask(cfg.Width, cfg.Height)
	for y := range m.Height {
		copy(m.Pix[y*m.Width:][:m.Width], pix[y*stride:][:m.Width])
	}
	return m, nil
}

// Overlay returns img blended with the colours of m (ClassColor) at opacity
// alpha in [0, 1] (clamped; NaN counts as 0): every pixel becomes
// (1-alpha)*photo + alpha*colour. m is resized to the image size with
// nearest-neighbour sampling. A nil or invalid mask leaves the photo as it
// is. The result is opaque, with bounds (0,0)-(w,h) of img's size; img's
// alpha, if any, is composited on black first. A nil img gives an empty image.
func Overlay(img image.Image, m *Mask, alpha float64) *image.RGBA {
	if img == nil {
		return image.NewRGBA(image.Rectangle{})
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	if b.Empty() {
		return out
	}
	drawOpaque(out, out.Rect, img, b.Min)
	if m.valid() != nil || !(alpha > 0) {
		return out
	}
	if m.Width != b.Dx() || m.Height != b.Dy() {
		m = ResizeMask(m, b.Dx(), b.Dy())
	}
	a := uint32(math.Round(min(alpha, 1) * 256))
	var lut [256][3]uint32
	for i := range lut {
		c := ClassColor(uint8(i))
		lut[i] = [3]uint32{uint32(c.R) * a, uint32(c.G) * a, uint32(c.B) * a}
	}
	keep := 256 - a
	for i, id := range m.Pix {
		p := out.Pix[4*i : 4*i+3 : 4*i+3]
		c := &lut[id]
		p[0] = uint8((uint32(p[0])*keep + c[0] + 128) >> 8)
		p[1] = uint8((uint32(p[1])*keep + c[1] + 128) >> 8)
		p[2] = uint8((uint32(p[2])*keep + c[2] + 128) >> 8)
	}
	return out
}

// BBox is a pixel rectangle, half-open: it holds x in [X0, X1) and y in
// [Y0, Y1).
type BBox struct {
	X0 int `json:"x0"`
	Y0 int `json:"y0"`
	X1 int `json:"x1"`
	Y1 int `json:"y1"`
}

// Stats summarises a mask.
type Stats struct {
	// Fractions[c] is the share of the mask's pixels that have class c.
	// Pixels with ids >= the number of classes asked for are in no
	// fraction, so the fractions then sum to less than 1.
	Fractions []float64 `json:"fractions"`
	// PetBBox bounds the ClassPet pixels; nil when there are none.
	PetBBox *BBox `json:"pet_bbox,omitempty"`
}

// ComputeStats returns the class fractions of m for classes 0..classes-1 and
// the bounding box of its pet pixels. A nil or invalid mask has all
// fractions 0 and no box.
func ComputeStats(m *Mask, classes int) Stats {
	if m.valid() != nil {
		return Stats{Fractions: make([]float64, max(classes, 0))}
	}
	return UpsampledMask{Base: m, Width: m.Width, Height: m.Height}.Stats(classes)
}
