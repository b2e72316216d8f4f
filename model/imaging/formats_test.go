package imaging

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/webp"

	"github.com/vitseg/vitseg/internal/testsupport/imagetest"
)

// colourImage is a 5x3 opaque image with a different colour in every pixel.
func colourImage() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, 5, 3))
	for y := range 3 {
		for x := range 5 {
			m.Set(x, y, color.RGBA{uint8(40 * x), uint8(80 * y), uint8(200 - 30*x), 255})
		}
	}
	return m
}

func readWebP(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webp", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// formatSeeds are the WebP, BMP and TIFF inputs of the tests and of testdata/fuzz/FuzzDecode.
func formatSeeds(tb testing.TB) map[string][]byte {
	return map[string][]byte{
		"webp-lossy":             readWebP(tb, "blue-purple-pink.lossy.webp"),
		"webp-lossless":          readWebP(tb, "gopher-doc.8bpp.lossless.webp"),
		"webp-alpha":             readWebP(tb, "gopher-doc.with-alpha.lossless.webp"),
		"webp-bomb-header":       imagetest.WebPHeaderOnly(40000, 40000),
		"bmp-rgb":                imagetest.BMP(colourImage()),
		"bmp-bomb-header":        imagetest.BMPHeaderOnly(50000, 50000),
		"tiff-deflate":           imagetest.TIFF(colourImage(), true),
		"tiff-uncompressed":      imagetest.TIFF(colourImage(), false),
		"tiff-bomb-header":       imagetest.TIFFHeaderOnly(50000, 50000),
		"bmp-magic-only":         []byte("BM"),
		"tiff-magic-only":        []byte("II*\x00"),
		"webp-riff-header-only":  []byte("RIFF\x04\x00\x00\x00WEBP"),
		"webp-frame-over-canvas": webpFrameInCanvas(readWebP(tb, "gopher-doc.8bpp.lossless.webp"), 2, 2),
	}
}

// webpFrameInCanvas puts the frame of a simple WebP file into a VP8X file declaring a w x h canvas.
func webpFrameInCanvas(simple []byte, w, h uint32) []byte {
	vp8x := imagetest.WebPHeaderOnly(w, h)
	body := append(append([]byte(nil), vp8x[8:]...), simple[12:]...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// TestDecodeMoreFormats: WebP, BMP and TIFF decode to the same pixels as their x/image decoders give (exactly,
// for the lossless ones made from colourImage), opaque, in the format's own dimensions.
func TestDecodeMoreFormats(t *testing.T) {
	seeds := formatSeeds(t)
	tests := []struct {
		name   string
		format Format
		w, h   int
		exact  bool // the pixels are those of colourImage
	}{
		{"bmp-rgb", FormatBMP, 5, 3, true},
		{"tiff-deflate", FormatTIFF, 5, 3, true},
		{"tiff-uncompressed", FormatTIFF, 5, 3, true},
		{"webp-lossy", FormatWebP, 0, 0, false},
		{"webp-lossless", FormatWebP, 0, 0, false},
		{"webp-alpha", FormatWebP, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := seeds[tc.name]
			d, err := Decode(bytes.NewReader(data), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Format != tc.format || Sniff(data) != tc.format {
				t.Errorf("format %q (sniffed %q), want %q", d.Format, Sniff(data), tc.format)
			}
			if tc.format == FormatWebP {
				cfg, err := webp.DecodeConfig(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				tc.w, tc.h = cfg.Width, cfg.Height
			}
			checkOpaque(t, d.Image, tc.w, tc.h)
			if !tc.exact {
				return
			}
			want := colourImage()
			for y := range tc.h {
				for x := range tc.w {
					if got, w := rgbAt(d.Image, x, y), rgbAt(want, x, y); got != w {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, w)
					}
				}
			}
		})
	}
}

// TestDecodeMoreFormatsRefusals: the headers are checked against the limits before any pixel is decoded, and
// malformed files are corrupt, never a panic or an unknown format.
func TestDecodeMoreFormatsRefusals(t *testing.T) {
	seeds := formatSeeds(t)
	tests := []struct {
		name string
		data []byte
		kind Kind
	}{
		{"webp-bomb-header", seeds["webp-bomb-header"], KindTooManyPixels},
		{"bmp-bomb-header", seeds["bmp-bomb-header"], KindTooManyPixels},
		{"tiff-bomb-header", seeds["tiff-bomb-header"], KindTooManyPixels},
		{"bmp-magic-only", seeds["bmp-magic-only"], KindCorrupt},
		{"tiff-magic-only", seeds["tiff-magic-only"], KindCorrupt},
		{"webp-riff-header-only", seeds["webp-riff-header-only"], KindCorrupt},
		{"webp frame larger than its canvas", seeds["webp-frame-over-canvas"], KindCorrupt},
		{"truncated webp", seeds["webp-lossy"][:len(seeds["webp-lossy"])/2], KindCorrupt},
		{"truncated tiff", seeds["tiff-deflate"][:len(seeds["tiff-deflate"])/2], KindCorrupt},
		{"truncated bmp", seeds["bmp-rgb"][:len(seeds["bmp-rgb"])-10], KindCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tc.data), Limits{})
			e, ok := err.(*Error)
			if !ok || e.Kind != tc.kind {
				t.Fatalf("error %v, want kind %s", err, tc.kind)
			}
		})
	}
}
