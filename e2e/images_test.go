package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // decode the sample photos
	"image/png"
	"testing"

	"github.com/vitseg/vitseg/internal/testsupport/imagetest"
)

// Crafted inputs for the bad-input corpus; the JPEG and PNG crafting is shared with model/imaging's tests through
// internal/testsupport/imagetest.

// decodePhoto decodes a sample photo.
func decodePhoto(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rgbaPNG re-encodes a photo as an 8-bit RGBA PNG whose alpha fades from opaque (left) to transparent.
func rgbaPNG(t *testing.T, photo []byte) []byte {
	t.Helper()
	src := decodePhoto(t, photo)
	b := src.Bounds()
	m := image.NewNRGBA(b)
	draw.Draw(m, b, src, b.Min, draw.Src)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := m.NRGBAAt(x, y)
			c.A = uint8(255 - 255*(x-b.Min.X)/b.Dx())
			m.SetNRGBA(x, y, c)
		}
	}
	return encodePNG(t, m)
}

// png16 re-encodes a photo as a 16-bit-per-channel PNG.
func png16(t *testing.T, photo []byte) []byte {
	t.Helper()
	src := decodePhoto(t, photo)
	m := image.NewRGBA64(src.Bounds())
	draw.Draw(m, m.Bounds(), src, src.Bounds().Min, draw.Src)
	return encodePNG(t, m)
}

// onePixelPNG is a 1x1 opaque PNG.
func onePixelPNG(t *testing.T) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 1, 1))
	m.Set(0, 0, color.RGBA{200, 120, 40, 255})
	return encodePNG(t, m)
}

// pngHeaderOnly is a decompression-bomb header: see imagetest.PNGHeaderOnly.
func pngHeaderOnly(w, h uint32) []byte { return imagetest.PNGHeaderOnly(w, h) }

// craftJPEG writes a baseline JPEG with flat 8x8 blocks: see imagetest.CraftJPEG.
func craftJPEG(w, h, nComp, adobe int, value func(c, bx, by int) uint8) []byte {
	return imagetest.CraftJPEG(w, h, nComp, adobe, value)
}

// as Adobe does).
func cmykJPEG() []byte {
	inks := [4][]uint8{{0, 255, 255, 255}, {255, 0, 255, 255}, {255, 255, 0, 255}, {255, 255, 255, 127}}
	return craftJPEG(64, 64, 4, 0, func(c, bx, by int) uint8 { return inks[(bx+by)%4][c] })
}
