package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fuzzLimits keep fuzzing fast and within memory while still letting small
// valid images through.
func fuzzLimits() Limits { return Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20} }

// decodeSeeds are the inputs of testdata/fuzz/FuzzDecode: every synthetic
// fixture of the tests, valid and invalid.
func decodeSeeds(tb testing.TB) map[string][]byte {
	stdJPEG := func(img image.Image) []byte {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			tb.Fatal(err)
		}
		return buf.Bytes()
	}
	return map[string][]byte{
		"png-gray":           encodePNG(tb, grayImage()),
		"jpeg-gray":          stdJPEG(grayImage()), // the std encoder writes one component for *image.Gray
		"jpeg-1x1":           stdJPEG(onePixelImage()),
		"png-gray16":         encodePNG(tb, gray16Image()),
		"png-paletted":       encodePNG(tb, palettedImage()),
		"png-nrgba":          encodePNG(tb, nrgbaImage()),
		"png-nrgba64":        encodePNG(tb, nrgba64Image()),
		"png-rgba64":         encodePNG(tb, rgba64Image()),
		"png-1x1":            encodePNG(tb, onePixelImage()),
		"png-bomb-header":    pngHeaderOnly(50000, 50000),
		"png-zero-width":     pngHeaderOnly(0, 10),
		"jpeg-cmyk":          cmykJPEG(),
		"jpeg-ycck":          ycckJPEG(),
		"jpeg-rgb":           rgbJPEG(),
		"jpeg-bomb-header":   jpegHeaderOnly(65000, 65000),
		"gif-two-frames":     smallGIF(tb),
		"gif-zero-screen":    gifHeaderOnly(0, 0),
		"gif-huge-screen":    gifHeaderOnly(65535, 65535),
		"text":               []byte("just some text, not an image\n"),
		"empty":              {},
		"jpeg-magic-only":    []byte("\xff\xd8\xff"),
		"png-signature-only": []byte("\x89PNG\r\n\x1a\n"),
	}
}

// scaledSeeds are the inputs of testdata/fuzz/FuzzDecodeScaled: JPEGs that
// the reduced DCT scales apply to, with each EXIF orientation, damaged
// copies, and the other decode seeds at a few minimum sizes.
func scaledSeeds(tb testing.TB) map[string]struct {
	data    []byte
	minSize uint8
} {
	out := map[string]struct {
		data    []byte
		minSize uint8
	}{}
	photo := func() []byte {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, cornerImage(96, 64), &jpeg.Options{Quality: 80}); err != nil {
			tb.Fatal(err)
		}
		return buf.Bytes()
	}()
	for o := range uint16(9) {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			out[fmt.Sprintf("jpeg-orientation-%d-%s", o, bo)] = struct {
				data    []byte
				minSize uint8
			}{withEXIFOrientation(photo, o, bo), 16}
		}
	}
	out["jpeg-truncated"] = struct {
		data    []byte
		minSize uint8
	}{photo[:len(photo)/2], 16}
	out["jpeg-gray-scaled"] = struct {
		data    []byte
		minSize uint8
	}{func() []byte {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, grayImage(), nil); err != nil {
			tb.Fatal(err)
		}
		return buf.Bytes()
	}(), 2}
	for name, data := range decodeSeeds(tb) {
		out[name] = struct {
			data    []byte
			minSize uint8
		}{data, 8}
	}
	return out
}

// maskSeeds are the inputs of testdata/fuzz/FuzzEncodeMaskPNG.
func maskSeeds() map[string]struct {
	w, h uint8
	pix  []byte
} {
	return map[string]struct {
		w, h uint8
		pix  []byte
	}{
		"three-classes": {3, 2, []byte{0, 1, 2, 2, 1, 0}},
		"1x1":           {1, 1, []byte{2}},
		"all-ids": {16, 16, func() []byte {
			b := make([]byte, 256)
			for i := range b {
				b[i] = byte(i)
			}
			return b
		}()},
		"empty-pix": {5, 7, nil},
	}
}

func corpusFile(values ...any) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range values {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		default:
			panic(fmt.Sprintf("corpusFile: unsupported %T", v))
		}
	}
	return []byte(b.String())
}

// TestFuzzSeedCorpus keeps testdata/fuzz in step with the fixtures above;
// -update rewrites it.
func TestFuzzSeedCorpus(t *testing.T) {
	want := map[string][]byte{}
	for name, data := range decodeSeeds(t) {
		want[filepath.Join("testdata", "fuzz", "FuzzDecode", name)] = corpusFile(data)
	}
	for name, data := range formatSeeds(t) { // formats_test.go
		want[filepath.Join("testdata", "fuzz", "FuzzDecode", name)] = corpusFile(data)
	}
	for name, s := range maskSeeds() {
		want[filepath.Join("testdata", "fuzz", "FuzzEncodeMaskPNG", name)] = corpusFile(s.w, s.h, s.pix)
		// The same masks, shown at a size derived from theirs.
		want[filepath.Join("testdata", "fuzz", "FuzzUpsampledMaskPNG", name)] = corpusFile(s.w, s.h, s.h, s.w, s.pix)
	}
	for name, s := range scaledSeeds(t) {
		want[filepath.Join("testdata", "fuzz", "FuzzDecodeScaled", name)] = corpusFile(s.data, s.minSize)
	}
	for path, data := range want {
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("seed %s missing or stale (regenerate with -update): %v", path, err)
		}
	}
}

// FuzzDecode: Decode never panics, every error is an *Error of a known kind,
// and every success satisfies the Decoded contract and the limits.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(bytes.NewReader(data), fuzzLimits())
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if ie.Kind.sentinel() == nil || !errors.Is(err, ie.Kind.sentinel()) {
				t.Fatalf("error of unknown kind %d: %v", ie.Kind, err)
			}
			return
		}
		if Sniff(data) != d.Format || d.Format == "" {
			t.Fatalf("format %q, sniffed %q", d.Format, Sniff(data))
		}
		if d.Width <= 0 || d.Height <= 0 || int64(d.Width)*int64(d.Height) > fuzzLimits().MaxPixels {
			t.Fatalf("accepted %dx%d", d.Width, d.Height)
		}
		if d.Image == nil || d.Image.Rect != image.Rect(0, 0, d.Width, d.Height) ||
			len(d.Image.Pix) != 4*d.Width*d.Height {
			t.Fatalf("bad image for %dx%d: %v", d.Width, d.Height, d.Image.Rect)
		}
		for i := 3; i < len(d.Image.Pix); i += 4 {
			if d.Image.Pix[i] != 255 {
				t.Fatalf("alpha %d at byte %d", d.Image.Pix[i], i)
			}
		}
		dst := make([]float32, 3*4*4)
		if err := ToTensor(d.Image, 4, dst); err != nil {
			t.Fatalf("ToTensor on a decoded image: %v", err)
		}
		if slices.ContainsFunc(dst, func(v float32) bool { return !(v >= 0 && v <= 1) }) {
			t.Fatalf("tensor value out of [0,1]: %v", dst)
		}
	})
}

// FuzzDecodeScaled: the model-size decode with EXIF orientation (the
// libjpeg-turbo path) never crashes, refuses with an *Error only, applies
// only valid orientations, and returns an image no larger than the full
// size and no smaller than the minimum size allows.
func FuzzDecodeScaled(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, minSize uint8) {
		d, err := DecodeWith(data, DecodeOptions{Limits: fuzzLimits(), MinSize: int(minSize)})
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) || ie.Kind.sentinel() == nil {
				t.Fatalf("error %T %v is not an *Error of a known kind", err, err)
			}
			return
		}
		if !d.Orientation.Valid() || int64(d.Width)*int64(d.Height) > fuzzLimits().MaxPixels {
			t.Fatalf("orientation %d, size %dx%d", d.Orientation, d.Width, d.Height)
		}
		w, h := d.Image.Rect.Dx(), d.Image.Rect.Dy()
		if d.Image.Rect.Min != (image.Point{}) || w > d.Width || h > d.Height || len(d.Image.Pix) != 4*w*h ||
			w < min(int(minSize), d.Width) || h < min(int(minSize), d.Height) {
			t.Fatalf("image %v for %dx%d at minimum %d", d.Image.Rect, d.Width, d.Height, minSize)
		}
		if d.Format != FormatJPEG && (w != d.Width || h != d.Height) {
			t.Fatalf("%s reduced to %v", d.Format, d.Image.Rect)
		}
		for i := 3; i < len(d.Image.Pix); i += 4 {
			if d.Image.Pix[i] != 255 {
				t.Fatalf("alpha %d at byte %d", d.Image.Pix[i], i)
			}
		}
	})
}

// FuzzUpsampledMaskPNG: a mask shown at any size encodes to a PNG that
// image/png decodes as paletted with exactly the upsampled ids, and whose
// statistics are those of the full-size mask.
func FuzzUpsampledMaskPNG(f *testing.F) {
	f.Fuzz(func(t *testing.T, bw, bh, w, h uint8, pix []byte) {
		base := NewMask(int(bw)%32+1, int(bh)%32+1)
		if len(pix) > 0 {
			for i := range base.Pix {
				base.Pix[i] = pix[i%len(pix)]
			}
		}
		u := UpsampledMask{Base: base, Width: int(w) + 1, Height: int(h)%128 + 1}
		var buf bytes.Buffer
		if err := u.EncodePNG(&buf); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		p, ok := img.(*image.Paletted)
		if !ok {
			t.Fatalf("decoded as %T, want *image.Paletted", img)
		}
		full := u.Full()
		for y := range full.Height {
			if !bytes.Equal(p.Pix[y*p.Stride:][:full.Width], full.Pix[y*full.Width:][:full.Width]) {
				t.Fatalf("row %d differs from the upsampled mask", y)
			}
		}
		if got, want := u.Stats(NumClasses), ComputeStats(full, NumClasses); !reflect.DeepEqual(got, want) {
			t.Fatalf("stats %+v, want %+v", got, want)
		}
	})
}

// FuzzEncodeMaskPNG: any mask round-trips through a paletted PNG.
func FuzzEncodeMaskPNG(f *testing.F) {
	f.Fuzz(func(t *testing.T, w, h uint8, pix []byte) {
		m := NewMask(int(w)%64+1, int(h)%64+1)
		if len(pix) > 0 {
			for i := range m.Pix {
				m.Pix[i] = pix[i%len(pix)]
			}
		}
		var buf bytes.Buffer
		if err := EncodeMaskPNG(&buf, m); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := img.(*image.Paletted); !ok {
			t.Fatalf("decoded as %T, want *image.Paletted", img)
		}
		back, err := DecodeMaskPNG(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip changed the mask: %+v -> %+v", m, back)
		}
	})
}
