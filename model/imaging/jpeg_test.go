package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"testing"
)

func encodeJPEG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeJPEGScaled: with MinSize the JPEG is decoded at the smallest
// power-of-two DCT scale that keeps both sides at MinSize or more, while
// Width and Height stay the full size.
func TestDecodeJPEGScaled(t *testing.T) {
	tests := []struct {
		w, h, minSize int
		gray          bool
		wantW, wantH  int
	}{
		{500, 375, 128, false, 250, 188}, // the example: 1/2
		{200, 150, 128, false, 200, 150}, // already small: full scale
		{1024, 1024, 128, false, 128, 128},
		{1030, 1030, 128, false, 129, 129}, // 1/8 rounds up
		{1024, 1020, 128, false, 128, 128}, // 127.5 rounds up to 128
		{500, 375, 0, false, 500, 375},     // no MinSize: full size
		{640, 480, 100, true, 160, 120},    // grayscale JPEG, 1/4
		{300, 7000, 128, false, 150, 3500}, // the short side decides
	}
	for _, tt := range tests {
		var img image.Image = cornerImage(tt.w, tt.h)
		if tt.gray {
			g := image.NewGray(image.Rect(0, 0, tt.w, tt.h))
			for i := range g.Pix {
				g.Pix[i] = uint8(i)
			}
			img = g
		}
		d, err := DecodeWith(encodeJPEG(t, img), DecodeOptions{MinSize: tt.minSize})
		if err != nil {
			t.Fatalf("%dx%d: %v", tt.w, tt.h, err)
		}
		wantW, wantH := tt.wantW, tt.wantH
		if got := d.Image.Rect; got != image.Rect(0, 0, wantW, wantH) || d.Width != tt.w || d.Height != tt.h {
			t.Errorf("%dx%d min %d: image %v, size %dx%d; want image %dx%d, size %dx%d",
				tt.w, tt.h, tt.minSize, got, d.Width, d.Height, wantW, wantH, tt.w, tt.h)
		}
		checkOpaque(t, d.Image, wantW, wantH)
	}
}

// TestDecodeJPEGScaledCMYK: CMYK JPEGs go to image/jpeg at full size.
func TestDecodeJPEGScaledCMYK(t *testing.T) {
	d, err := DecodeWith(cmykJPEG(), DecodeOptions{MinSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if d.Image.Rect != image.Rect(0, 0, d.Width, d.Height) {
		t.Fatalf("CMYK JPEG decoded to %v, want the full %dx%d", d.Image.Rect, d.Width, d.Height)
	}
}

// TestDecodeJPEGCorrupt: damaged JPEGs are *Error of kind corrupt from the
// libjpeg-turbo path, scaled or not, and never reach the C decoder when the
// header is over the limits.
func TestDecodeJPEGCorrupt(t *testing.T) {
	good := encodeJPEG(t, cornerImage(320, 240))
	flipped := bytes.Clone(good)
	for i := len(flipped) / 2; i < len(flipped)/2+64; i++ {
		flipped[i] ^= 0x5a
	}
	tests := []struct {
		name string
		data []byte
		kind Kind
	}{
		{"truncated in the scan", good[:len(good)*2/3], KindCorrupt},
		{"garbled entropy data", flipped, KindCorrupt},
		{"header only, huge", jpegHeaderOnly(65000, 65000), KindTooManyPixels},
		{"header only, small", jpegHeaderOnly(64, 64), KindCorrupt},
	}
	for _, tt := range tests {
		for _, minSize := range []int{0, 128} {
			_, err := DecodeWith(tt.data, DecodeOptions{MinSize: minSize})
			var ie *Error
			if !errors.As(err, &ie) || ie.Kind != tt.kind {
				t.Errorf("%s (min %d): error %v, want kind %v", tt.name, minSize, err, tt.kind)
			}
		}
	}
}

// TestScaledDecodeKeepsTensor: decoding at a reduced DCT scale changes the
// model's input only slightly: on real photos the 128x128 tensor stays
// within a few levels of the one from the full decode.
func TestScaledDecodeKeepsTensor(t *testing.T) {
	for _, name := range goldenImages {
		data := readDataset(t, name)
		full, err := DecodeWith(data, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		scaled, err := DecodeWith(data, DecodeOptions{MinSize: 128})
		if err != nil {
			t.Fatal(err)
		}
		a, b := make([]float32, 3*128*128), make([]float32, 3*128*128)
		if err := ToTensor(full.Image, 128, a); err != nil {
			t.Fatal(err)
		}
		if err := ToTensor(scaled.Image, 128, b); err != nil {
			t.Fatal(err)
		}
		var sum float64
		for i := range a {
			d := float64(a[i] - b[i])
			sum += max(d, -d)
		}
		mean := sum / float64(len(a)) * 255
		t.Logf("%s: %dx%d decoded at %v: mean difference %.3f levels", name, full.Width, full.Height, scaled.Image.Rect.Size(), mean)
		if mean > 2 {
			t.Errorf("%s (%v from %dx%d): mean difference %.2f levels, want <= 2", name, scaled.Image.Rect.Size(),
				full.Width, full.Height, mean)
		}
	}
}
