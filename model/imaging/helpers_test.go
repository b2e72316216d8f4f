package imaging

import (
	"bytes"
	"encoding/binary"
	"flag"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/vitseg/vitseg/internal/testsupport/imagetest"
	"github.com/vitseg/vitseg/internal/testsupport/sampledata"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json and the fuzz seed corpus in testdata/fuzz")

// datasetDir is the Oxford-IIIT Pet sample (see package sampledata).
func datasetDir(tb testing.TB) string { return sampledata.Dir(tb) }

// readDataset reads a file of the dataset, e.g. "images/Abyssinian_1.jpg".
func readDataset(tb testing.TB, rel string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(datasetDir(tb), filepath.FromSlash(rel)))
	if err != nil {
		tb.Fatalf("reading dataset file: %v", err)
	}
	return data
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatalf("png.Encode: %v", err)
	}
	return buf.Bytes()
}

func encodeGIF(tb testing.TB, g *gif.GIF) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		tb.Fatalf("gif.EncodeAll: %v", err)
	}
	return buf.Bytes()
}

// pngChunk returns one PNG chunk with a valid CRC.
func pngChunk(typ string, data []byte) []byte { return imagetest.PNGChunk(typ, data) }

// pngHeaderOnly is a decompression-bomb header: see imagetest.PNGHeaderOnly.
func pngHeaderOnly(w, h uint32) []byte { return imagetest.PNGHeaderOnly(w, h) }

// gifHeaderOnly returns a GIF89a logical screen descriptor of w x h and the
// trailer, with no frame.
func gifHeaderOnly(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0, ';')
}

// craftJPEG writes a baseline JPEG with flat 8x8 blocks: see imagetest.CraftJPEG.
func craftJPEG(w, h, nComp, adobe int, value func(c, bx, by int) uint8) []byte {
	return imagetest.CraftJPEG(w, h, nComp, adobe, value)
}

// quadrants returns a value function for craftJPEG of a 16x16 image whose
// four 8x8 blocks have the given per-component values (top-left, top-right,
// bottom-left, bottom-right).
func quadrants(q [4][]uint8) func(c, bx, by int) uint8 {
	return func(c, bx, by int) uint8 { return q[by*2+bx][c] }
}

// cmykJPEG is a 16x16 Adobe CMYK JPEG whose quadrants are, in ink
// amounts, cyan, magenta, yellow and 50% black (stored inverted, as Adobe
// does and the standard decoder expects).
func cmykJPEG() []byte {
	inv := func(c, m, y, k uint8) []uint8 { return []uint8{255 - c, 255 - m, 255 - y, 255 - k} }
	return craftJPEG(16, 16, 4, 0, quadrants([4][]uint8{
		inv(255, 0, 0, 0), inv(0, 255, 0, 0), inv(0, 0, 255, 0), inv(0, 0, 0, 128),
	}))
}

// ycckJPEG is a 16x16 Adobe YCCK JPEG: quadrants (Y, Cb, Cr, stored K) of
// black-YCbCr with no ink (white), white-YCbCr (full CMY: black), a red
// YCbCr (cyan ink: cyan) and black-YCbCr with stored K 0 (full black ink:
// black).
func ycckJPEG() []byte {
	return craftJPEG(16, 16, 4, 2, quadrants([4][]uint8{
		{0, 128, 128, 255}, {255, 128, 128, 255}, {76, 85, 255, 255}, {0, 128, 128, 0},
	}))
}

// rgbJPEG is a 16x16 Adobe RGB JPEG (transform 0, three components) with
// red, green, blue and gray quadrants.
func rgbJPEG() []byte {
	return craftJPEG(16, 16, 3, 0, quadrants([4][]uint8{
		{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {100, 100, 100},
	}))
}

// jpegHeaderOnly is a JPEG header with no scan data: see imagetest.JPEGHeaderOnly.
func jpegHeaderOnly(w, h int) []byte { return imagetest.JPEGHeaderOnly(w, h) }

// Synthetic images with known pixels.

func grayImage() *image.Gray {
	m := image.NewGray(image.Rect(0, 0, 5, 3))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 17)
	}
	return m
}

func gray16Image() *image.Gray16 {
	m := image.NewGray16(image.Rect(0, 0, 4, 2))
	for i := range 8 {
		m.SetGray16(i%4, i/4, color.Gray16{Y: uint16(0x1234 + i*0x2000)})
	}
	return m
}

func palettedImage() *image.Paletted {
	pal := color.Palette{
		color.RGBA{255, 0, 0, 255},
		color.RGBA{0, 255, 0, 255},
		color.NRGBA{0, 0, 255, 128}, // translucent: written with a tRNS chunk
	}
	m := image.NewPaletted(image.Rect(0, 0, 3, 2), pal)
	copy(m.Pix, []uint8{0, 1, 2, 2, 1, 0})
	return m
}

func nrgbaImage() *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	m.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 128})
	m.SetNRGBA(1, 0, color.NRGBA{10, 20, 30, 255})
	m.SetNRGBA(0, 1, color.NRGBA{255, 255, 255, 0})
	m.SetNRGBA(1, 1, color.NRGBA{1, 2, 3, 254})
	return m
}

func nrgba64Image() *image.NRGBA64 {
	m := image.NewNRGBA64(image.Rect(0, 0, 2, 1))
	m.SetNRGBA64(0, 0, color.NRGBA64{0xffff, 0x8000, 0x0000, 0xffff})
	m.SetNRGBA64(1, 0, color.NRGBA64{0xffff, 0xffff, 0xffff, 0x8000})
	return m
}

func rgba64Image() *image.RGBA64 {
	m := image.NewRGBA64(image.Rect(0, 0, 1, 2))
	m.SetRGBA64(0, 0, color.RGBA64{0x1234, 0xabcd, 0xfedc, 0xffff})
	m.SetRGBA64(0, 1, color.RGBA64{0, 0x00ff, 0xff00, 0xffff})
	return m
}

func onePixelImage() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, 1, 1))
	m.SetRGBA(0, 0, color.RGBA{7, 8, 9, 255})
	return m
}

// smallGIF has two frames; the first is 2x2 at (1,1) inside a 4x3 screen.
func smallGIF(tb testing.TB) []byte {
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{10, 200, 30, 255}, color.RGBA{}}
	f1 := image.NewPaletted(image.Rect(1, 1, 3, 3), pal)
	copy(f1.Pix, []uint8{1, 1, 1, 2})
	f2 := image.NewPaletted(image.Rect(0, 0, 4, 3), pal)
	return encodeGIF(tb, &gif.GIF{
		Image:  []*image.Paletted{f1, f2},
		Delay:  []int{0, 0},
		Config: image.Config{ColorModel: pal, Width: 4, Height: 3},
	})
}

// referenceRGB is the colour Decode must produce at (x, y): the standard
// library's own At conversion, composited on black.
func referenceRGB(img image.Image, x, y int) [3]uint8 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

func rgbAt(m *image.RGBA, x, y int) [3]uint8 {
	i := m.PixOffset(x, y)
	return [3]uint8{m.Pix[i], m.Pix[i+1], m.Pix[i+2]}
}
