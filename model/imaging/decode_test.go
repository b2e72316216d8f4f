package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stdDecode decodes with the standard library, for reference values.
func stdDecode(tb testing.TB, data []byte) image.Image {
	tb.Helper()
	var img image.Image
	var err error
	switch Sniff(data) {
	case FormatJPEG:
		img, err = jpeg.Decode(bytes.NewReader(data))
	case FormatPNG:
		img, err = png.Decode(bytes.NewReader(data))
	case FormatGIF:
		img, err = gif.Decode(bytes.NewReader(data))
	default:
		tb.Fatalf("stdDecode: unknown format")
	}
	if err != nil {
		tb.Fatalf("standard decoder: %v", err)
	}
	return img
}

// checkOpaque fails unless every alpha byte of m is 255 and m's bounds are
// (0,0)-(w,h).
func checkOpaque(t *testing.T, m *image.RGBA, w, h int) {
	t.Helper()
	if m.Rect != image.Rect(0, 0, w, h) {
		t.Fatalf("bounds %v, want %v", m.Rect, image.Rect(0, 0, w, h))
	}
	for i := 3; i < len(m.Pix); i += 4 {
		if m.Pix[i] != 255 {
			t.Fatalf("alpha byte %d is %d, want 255", i, m.Pix[i])
		}
	}
}

// turboMaxDiff bounds the per-channel difference between libjpeg-turbo's and
// image/jpeg's decode of the same JPEG, in 8-bit levels.
const turboMaxDiff = 6

func TestDecodeFormats(t *testing.T) {
	type pixel struct {
		x, y int
		rgb  [3]uint8
	}
	tests := []struct {
		name       string
		data       func(t *testing.T) []byte
		format     Format
		w, h       int
		stdType    string  // type the standard decoder returns: the conversion path exercised
		pixels     []pixel // known values, independent of the reference conversion
		tolerance  int     // for the pixels above (lossy JPEG)
		notAllSame bool    // the image must not be a single colour
	}{
		{
			name: "real JPEG Abyssinian_1", format: FormatJPEG, w: 600, h: 400, stdType: "*image.YCbCr", notAllSame: true,
			data: func(t *testing.T) []byte { return readDataset(t, "images/Abyssinian_1.jpg") },
		},
		{
			name: "real GIF named .jpg Abyssinian_34", format: FormatGIF, w: 250, h: 202, stdType: "*image.Paletted", notAllSame: true,
			data: func(t *testing.T) []byte { return readDataset(t, "images/Abyssinian_34.jpg") },
		},
		{
			name: "gray PNG", format: FormatPNG, w: 5, h: 3, stdType: "*image.Gray",
			data:   func(t *testing.T) []byte { return encodePNG(t, grayImage()) },
			pixels: []pixel{{0, 0, [3]uint8{0, 0, 0}}, {1, 0, [3]uint8{17, 17, 17}}, {4, 2, [3]uint8{238, 238, 238}}},
		},
		{
			name: "gray16 PNG", format: FormatPNG, w: 4, h: 2, stdType: "*image.Gray16",
			data:   func(t *testing.T) []byte { return encodePNG(t, gray16Image()) },
			pixels: []pixel{{0, 0, [3]uint8{0x12, 0x12, 0x12}}, {1, 0, [3]uint8{0x32, 0x32, 0x32}}, {3, 1, [3]uint8{0xf2, 0xf2, 0xf2}}},
		},
		{
			name: "paletted PNG with translucent entry", format: FormatPNG, w: 3, h: 2, stdType: "*image.Paletted",
			data:   func(t *testing.T) []byte { return encodePNG(t, palettedImage()) },
			pixels: []pixel{{0, 0, [3]uint8{255, 0, 0}}, {1, 0, [3]uint8{0, 255, 0}}, {2, 0, [3]uint8{0, 0, 128}}, {2, 1, [3]uint8{255, 0, 0}}},
		},
		{
			// The dataset's Abyssinian_5.jpg is an RGBA PNG in the full
			// Oxford-IIIT set; the shared sample lacks it, so it is made here.
			name: "RGBA PNG (as Abyssinian_5.jpg)", format: FormatPNG, w: 2, h: 2, stdType: "*image.NRGBA",
			data: func(t *testing.T) []byte { return encodePNG(t, nrgbaImage()) },
			pixels: []pixel{
				{0, 0, [3]uint8{100, 50, 25}}, // composited on black: 200*128/255 ...
				{1, 0, [3]uint8{10, 20, 30}},
				{0, 1, [3]uint8{0, 0, 0}}, // fully transparent white becomes black
				{1, 1, [3]uint8{0, 1, 2}},
			},
		},
		{
			name: "16-bit RGBA PNG", format: FormatPNG, w: 2, h: 1, stdType: "*image.NRGBA64",
			data:   func(t *testing.T) []byte { return encodePNG(t, nrgba64Image()) },
			pixels: []pixel{{0, 0, [3]uint8{255, 128, 0}}, {1, 0, [3]uint8{128, 128, 128}}},
		},
		{
			name: "16-bit RGB PNG", format: FormatPNG, w: 1, h: 2, stdType: "*image.RGBA64",
			data:   func(t *testing.T) []byte { return encodePNG(t, rgba64Image()) },
			pixels: []pixel{{0, 0, [3]uint8{0x12, 0xab, 0xfe}}, {0, 1, [3]uint8{0, 0, 0xff}}},
		},
		{
			name: "1x1 PNG", format: FormatPNG, w: 1, h: 1, stdType: "*image.RGBA",
			data:   func(t *testing.T) []byte { return encodePNG(t, onePixelImage()) },
			pixels: []pixel{{0, 0, [3]uint8{7, 8, 9}}},
		},
		{
			name: "1x1 JPEG", format: FormatJPEG, w: 1, h: 1, stdType: "*image.YCbCr",
			data: func(t *testing.T) []byte {
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, onePixelImage(), &jpeg.Options{Quality: 100}); err != nil {
					t.Fatal(err)
				}
				return buf.Bytes()
			},
			pixels: []pixel{{0, 0, [3]uint8{7, 8, 9}}}, tolerance: 3,
		},
		{
			name: "gray JPEG", format: FormatJPEG, w: 5, h: 3, stdType: "*image.Gray",
			data: func(t *testing.T) []byte {
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, grayImage(), &jpeg.Options{Quality: 100}); err != nil {
					t.Fatal(err)
				}
				return buf.Bytes()
			},
			pixels: []pixel{{0, 0, [3]uint8{0, 0, 0}}, {4, 2, [3]uint8{238, 238, 238}}}, tolerance: 3,
		},
		{
			name: "CMYK JPEG (Adobe)", format: FormatJPEG, w: 16, h: 16, stdType: "*image.CMYK",
			data: func(*testing.T) []byte { return cmykJPEG() },
			pixels: []pixel{
				{3, 3, [3]uint8{0, 255, 255}}, {12, 3, [3]uint8{255, 0, 255}},
				{3, 12, [3]uint8{255, 255, 0}}, {12, 12, [3]uint8{127, 127, 127}},
			},
			tolerance: 2,
		},
		{
			name: "YCCK JPEG (Adobe)", format: FormatJPEG, w: 16, h: 16, stdType: "*image.CMYK",
			data: func(*testing.T) []byte { return ycckJPEG() },
			pixels: []pixel{
				{3, 3, [3]uint8{255, 255, 255}}, {12, 3, [3]uint8{0, 0, 0}},
				{3, 12, [3]uint8{0, 255, 255}}, {12, 12, [3]uint8{0, 0, 0}},
			},
			tolerance: 3,
		},
		{
			name: "RGB JPEG (Adobe transform 0)", format: FormatJPEG, w: 16, h: 16, stdType: "*image.RGBA",
			data: func(*testing.T) []byte { return rgbJPEG() },
			pixels: []pixel{
				{0, 0, [3]uint8{255, 0, 0}}, {15, 0, [3]uint8{0, 255, 0}},
				{0, 15, [3]uint8{0, 0, 255}}, {15, 15, [3]uint8{100, 100, 100}},
			},
			tolerance: 2,
		},
		{
			name: "GIF first frame smaller than the screen", format: FormatGIF, w: 4, h: 3, stdType: "*image.Paletted",
			data: func(t *testing.T) []byte { return smallGIF(t) },
			pixels: []pixel{
				{0, 0, [3]uint8{0, 0, 0}}, // outside the frame: black
				{1, 1, [3]uint8{10, 200, 30}}, {2, 1, [3]uint8{10, 200, 30}}, {1, 2, [3]uint8{10, 200, 30}},
				{2, 2, [3]uint8{0, 0, 0}}, // transparent palette entry: black
				{3, 2, [3]uint8{0, 0, 0}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			d, err := Decode(bytes.NewReader(data), DefaultLimits())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if d.Format != tt.format || d.Width != tt.w || d.Height != tt.h {
				t.Fatalf("got %s %dx%d, want %s %dx%d", d.Format, d.Width, d.Height, tt.format, tt.w, tt.h)
			}
			checkOpaque(t, d.Image, tt.w, tt.h)

			ref := stdDecode(t, data)
			if got := fmt.Sprintf("%T", ref); got != tt.stdType {
				t.Fatalf("standard decoder returned %s, want %s: the fixture does not exercise that path", got, tt.stdType)
			}
			// Every pixel equals the standard library's generic conversion; JPEGs that
			// libjpeg-turbo decodes (all but CMYK and YCCK) are near it: another IDCT
			// and chroma upsampling differ by a few levels, by less than one on average.
			turbo := tt.format == FormatJPEG && tt.stdType != "*image.CMYK"
			rb := ref.Bounds()
			worst, sum := 0, 0
			for y := range tt.h {
				for x := range tt.w {
					want := [3]uint8{}
					if (image.Point{x, y}).In(rb) {
						want = referenceRGB(ref, x, y)
					}
					got := rgbAt(d.Image, x, y)
					if !turbo && got != want {
						t.Fatalf("pixel (%d,%d) = %v, reference %v", x, y, got, want)
					}
					for c := range 3 {
						diff := max(int(got[c])-int(want[c]), int(want[c])-int(got[c]))
						worst, sum = max(worst, diff), sum+diff
					}
				}
			}
			if mean := float64(sum) / float64(3*tt.w*tt.h); turbo && (worst > turboMaxDiff || mean > 1) {
				t.Fatalf("libjpeg-turbo vs image/jpeg: largest difference %d levels (want <= %d), mean %.3f (want <= 1)",
					worst, turboMaxDiff, mean)
			}
			for _, p := range tt.pixels {
				got := rgbAt(d.Image, p.x, p.y)
				for c := range 3 {
					if diff := int(got[c]) - int(p.rgb[c]); diff < -tt.tolerance || diff > tt.tolerance {
						t.Errorf("pixel (%d,%d) = %v, want %v ±%d", p.x, p.y, got, p.rgb, tt.tolerance)
						break
					}
				}
			}
			if tt.notAllSame {
				first := rgbAt(d.Image, 0, 0)
				same := true
				for y := 0; y < tt.h && same; y += 7 {
					for x := 0; x < tt.w && same; x += 7 {
						same = rgbAt(d.Image, x, y) == first
					}
				}
				if same {
					t.Errorf("decoded photo is a single colour %v", first)
				}
			}
		})
	}
}

// TestDecodeWholeDataset decodes every file of the image directory: the
// formats come from the magic bytes (one GIF hides behind .jpg), and the
// MATLAB files kept among the images are refused as unknown formats.
func TestDecodeWholeDataset(t *testing.T) {
	dir := filepath.Join(datasetDir(t), "images")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(bytes.NewReader(data), DefaultLimits())
		switch filepath.Ext(e.Name()) {
		case ".mat":
			var ie *Error
			if !errors.As(err, &ie) || ie.Kind != KindUnknownFormat || !strings.Contains(ie.Msg, "MATLAB") {
				t.Errorf("%s: got %v, want an unknown-format error naming MATLAB", e.Name(), err)
			}
			counts["mat"]++
		case ".jpg":
			if err != nil {
				t.Errorf("%s: %v", e.Name(), err)
				continue
			}
			ref := stdDecode(t, data)
			if ref.Bounds() != image.Rect(0, 0, d.Width, d.Height) {
				t.Errorf("%s: %dx%d, standard decoder %v", e.Name(), d.Width, d.Height, ref.Bounds())
			}
			if d.Width < 100 || d.Height < 100 {
				t.Errorf("%s: implausible photo size %dx%d", e.Name(), d.Width, d.Height)
			}
			counts[string(d.Format)]++
			// The Oxford-IIIT quirks: only these two .jpg files are not
			// JPEGs. (The shared sample lacks Abyssinian_5.jpg; the full
			// dataset, via VITSEG_DATASET_DIR, has it.)
			want := map[string]Format{"Abyssinian_34.jpg": FormatGIF, "Abyssinian_5.jpg": FormatPNG}[e.Name()]
			if want == "" {
				want = FormatJPEG
			}
			if d.Format != want {
				t.Errorf("%s: format %s, want %s", e.Name(), d.Format, want)
			}
		default:
			t.Errorf("unexpected file %s in the dataset", e.Name())
		}
	}
	t.Logf("decoded: %v", counts)
	if counts["gif"] != 1 || counts["jpeg"] < 400 || counts["mat"] < 1 {
		t.Errorf("format counts %v, want 1 gif (Abyssinian_34.jpg), >= 400 jpeg and the .mat files", counts)
	}
}

// infiniteReader yields zero bytes forever and counts them.
type infiniteReader struct{ n int64 }

func (r *infiniteReader) Read(p []byte) (int, error) {
	clear(p)
	r.n += int64(len(p))
	return len(p), nil
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestDecodeRefusals(t *testing.T) {
	sentinels := []error{ErrEmpty, ErrTooLarge, ErrTooManyPixels, ErrUnknownFormat, ErrCorrupt}
	badCRC := encodePNG(t, grayImage())
	badCRC[len(badCRC)-20] ^= 0xff // inside IDAT (before IEND's 12 bytes)
	frameOutside := smallGIF(t)
	// The first frame's image descriptor: ',' left top width height; move
	// the frame right so that it sticks out of the 4x3 screen.
	if i := bytes.IndexByte(frameOutside[13:], ','); i < 0 {
		t.Fatal("no image descriptor in GIF fixture")
	} else {
		frameOutside[13+i+1] = 3
	}

	tests := []struct {
		name string
		data func(t *testing.T) []byte
		lim  Limits
		kind Kind
		msg  string // substring of the message
	}{
		{name: "zero bytes", data: func(*testing.T) []byte { return nil }, kind: KindEmpty},
		{name: "text file", data: func(*testing.T) []byte { return []byte("just some text, not an image\n") },
			kind: KindUnknownFormat, msg: "6a75737420736f6d"},
		{name: "truncated WebP", data: func(*testing.T) []byte { return []byte("RIFF\x10\x00\x00\x00WEBPVP8 ") },
			kind: KindCorrupt, msg: "webp"},
		{name: "truncated JPEG (half of a real photo)",
			data: func(t *testing.T) []byte { d := readDataset(t, "images/Abyssinian_1.jpg"); return d[:len(d)/2] },
			kind: KindCorrupt, msg: "decoding jpeg"},
		{name: "truncated JPEG header",
			data: func(t *testing.T) []byte { return readDataset(t, "images/Abyssinian_1.jpg")[:40] },
			kind: KindCorrupt, msg: "reading jpeg header"},
		{name: "truncated PNG", data: func(t *testing.T) []byte { d := encodePNG(t, grayImage()); return d[:len(d)-20] },
			kind: KindCorrupt},
		{name: "PNG with bad CRC", data: func(*testing.T) []byte { return badCRC }, kind: KindCorrupt},
		{name: "PNG header declaring 50000x50000", data: func(*testing.T) []byte { return pngHeaderOnly(50000, 50000) },
			kind: KindTooManyPixels, msg: "2500000000 pixels"},
		{name: "PNG header declaring 0x10", data: func(*testing.T) []byte { return pngHeaderOnly(0, 10) },
			kind: KindCorrupt},
		{name: "JPEG header declaring 65000x65000", data: func(*testing.T) []byte { return jpegHeaderOnly(65000, 65000) },
			kind: KindTooManyPixels},
		{name: "GIF screen 65535x65535", data: func(*testing.T) []byte { return gifHeaderOnly(65535, 65535) },
			kind: KindTooManyPixels},
		{name: "GIF screen 0x0", data: func(*testing.T) []byte { return gifHeaderOnly(0, 0) },
			kind: KindCorrupt, msg: "0x0"},
		{name: "GIF without frames", data: func(*testing.T) []byte { return gifHeaderOnly(4, 4) }, kind: KindCorrupt},
		{name: "GIF frame outside the screen", data: func(*testing.T) []byte { return frameOutside }, kind: KindCorrupt},
		{name: "real photo over MaxPixels", data: func(t *testing.T) []byte { return readDataset(t, "images/Abyssinian_1.jpg") },
			lim: Limits{MaxPixels: 600*400 - 1}, kind: KindTooManyPixels},
		{name: "real photo over MaxBytes", data: func(t *testing.T) []byte { return readDataset(t, "images/Abyssinian_1.jpg") },
			lim: Limits{MaxBytes: 10_000}, kind: KindTooLarge, msg: "10000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decode(bytes.NewReader(tt.data(t)), tt.lim)
			if err == nil {
				t.Fatalf("Decode succeeded (%s %dx%d), want %s error", d.Format, d.Width, d.Height, tt.kind)
			}
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if ie.Kind != tt.kind {
				t.Fatalf("kind %s (%v), want %s", ie.Kind, err, tt.kind)
			}
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), s == tt.kind.sentinel(); got != want {
					t.Errorf("errors.Is(err, %v) = %t, want %t", s, got, want)
				}
			}
			if !strings.HasPrefix(err.Error(), "imaging: "+tt.kind.String()) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q, want prefix %q and %q in it", err, "imaging: "+tt.kind.String(), tt.msg)
			}
		})
	}
}

func TestDecodeReadsAtMostMaxBytesPlusOne(t *testing.T) {
	r := &infiniteReader{}
	_, err := Decode(r, Limits{MaxBytes: 1 << 16})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if r.n > 1<<16+1 {
		t.Errorf("read %d bytes, want at most %d", r.n, 1<<16+1)
	}
}

func TestDecodeExactlyMaxBytes(t *testing.T) {
	data := encodePNG(t, grayImage())
	if _, err := Decode(bytes.NewReader(data), Limits{MaxBytes: int64(len(data))}); err != nil {
		t.Fatalf("input of exactly MaxBytes refused: %v", err)
	}
	if _, err := Decode(bytes.NewReader(data), Limits{MaxBytes: int64(len(data)) - 1}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("input of MaxBytes+1 bytes: got %v, want ErrTooLarge", err)
	}
}

func TestDecodeReaderErrorIsNotAnInputError(t *testing.T) {
	cause := errors.New("connection reset")
	_, err := Decode(io.MultiReader(strings.NewReader("\xff\xd8\xff"), failingReader{cause}), DefaultLimits())
	if !errors.Is(err, cause) {
		t.Fatalf("got %v, want the reader's error wrapped", err)
	}
	var ie *Error
	if errors.As(err, &ie) {
		t.Fatalf("reader failure reported as input error %v", ie)
	}
}

func TestDefaultLimits(t *testing.T) {
	if got := DefaultLimits(); got != (Limits{MaxBytes: 32 << 20, MaxPixels: 40_000_000}) {
		t.Fatalf("DefaultLimits() = %+v", got)
	}
	if got := (Limits{MaxBytes: -1}).withDefaults(); got != DefaultLimits() {
		t.Fatalf("zero/negative limits resolve to %+v, want defaults", got)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		in   string
		want Format
	}{
		{"\xff\xd8\xff\xe0", FormatJPEG},
		{"\x89PNG\r\n\x1a\n", FormatPNG},
		{"GIF87a", FormatGIF},
		{"GIF89a", FormatGIF},
		{"GIF88a", ""},
		{"\xff\xd8", ""},
		{"\x89PNG", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.in)); got != tt.want {
			t.Errorf("Sniff(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorKindStrings(t *testing.T) {
	for k := KindEmpty; k <= KindCorrupt; k++ {
		if k.sentinel() == nil || strings.HasPrefix(k.String(), "Kind(") {
			t.Errorf("kind %d has no sentinel or name", k)
		}
	}
	e := &Error{Kind: KindCorrupt, Msg: "x", Err: io.ErrUnexpectedEOF}
	if !errors.Is(e, io.ErrUnexpectedEOF) || !errors.Is(e, ErrCorrupt) || errors.Is(e, ErrEmpty) {
		t.Errorf("errors.Is through *Error broken: %v", e)
	}
	if got, want := e.Error(), "imaging: corrupt: x: unexpected EOF"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func BenchmarkDecode(b *testing.B) {
	data := readDataset(b, "images/Abyssinian_105.jpg")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data), DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}
