package imaging

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"slices"
	"testing"

	"golang.org/x/image/tiff"

	"github.com/vitseg/vitseg/internal/testsupport/imagetest"
)

// withEXIFOrientation: see imagetest.WithEXIFOrientation.
func withEXIFOrientation(jpg []byte, o uint16, bo binary.ByteOrder) []byte {
	return imagetest.WithEXIFOrientation(jpg, o, bo)
}

// cornerImage is w x h, black except its top-left quarter red and its
// top-right quarter green, so every orientation moves them somewhere else.
func cornerImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{A: 255}
			switch {
			case y < h/2 && x < w/2:
				c.R = 255
			case y < h/2:
				c.G = 255
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// TestOrientationsDisplayUpright: a 200x300 photo stored with each of the
// eight orientations decodes to the displayed size with its red and green
// quarters where a viewer shows them.
func TestOrientationsDisplayUpright(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, cornerImage(200, 300), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	// Where the stored top-left (red) and top-right (green) quarters end up,
	// as points of the displayed image near those quarters' centres.
	tests := []struct {
		o          Orientation
		w, h       int
		red, green image.Point
	}{
		{OrientNormal, 200, 300, image.Pt(50, 75), image.Pt(150, 75)},
		{OrientFlipH, 200, 300, image.Pt(150, 75), image.Pt(50, 75)},
		{OrientRotate180, 200, 300, image.Pt(150, 225), image.Pt(50, 225)},
		{OrientFlipV, 200, 300, image.Pt(50, 225), image.Pt(150, 225)},
		{OrientTranspose, 300, 200, image.Pt(75, 50), image.Pt(75, 150)},
		{OrientRotate90, 300, 200, image.Pt(225, 50), image.Pt(225, 150)},
		{OrientTransverse, 300, 200, image.Pt(225, 150), image.Pt(225, 50)},
		{OrientRotate270, 300, 200, image.Pt(75, 150), image.Pt(75, 50)},
	}
	for _, tt := range tests {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			data := withEXIFOrientation(buf.Bytes(), uint16(tt.o), bo)
			for _, minSize := range []int{0, 64} {
				d, err := DecodeWith(data, DecodeOptions{MinSize: minSize})
				if err != nil {
					t.Fatalf("orientation %d: %v", tt.o, err)
				}
				if d.Orientation != tt.o || d.Width != tt.w || d.Height != tt.h {
					t.Fatalf("orientation %d %v min %d: got orientation %d %dx%d, want %dx%d",
						tt.o, bo, minSize, d.Orientation, d.Width, d.Height, tt.w, tt.h)
				}
				// The image may be reduced; scale the probe points.
				sx := float64(d.Image.Rect.Dx()) / float64(tt.w)
				sy := float64(d.Image.Rect.Dy()) / float64(tt.h)
				at := func(p image.Point) [3]uint8 { return rgbAt(d.Image, int(float64(p.X)*sx), int(float64(p.Y)*sy)) }
				if c := at(tt.red); c[0] < 200 || c[1] > 50 {
					t.Errorf("orientation %d min %d: red quarter at %v is %v", tt.o, minSize, tt.red, c)
				}
				if c := at(tt.green); c[1] < 200 || c[0] > 50 {
					t.Errorf("orientation %d min %d: green quarter at %v is %v", tt.o, minSize, tt.green, c)
				}
			}
		}
		// --exif-orientation=false: the stored pixels.
		d, err := DecodeWith(withEXIFOrientation(buf.Bytes(), uint16(tt.o), binary.BigEndian),
			DecodeOptions{IgnoreOrientation: true})
		if err != nil {
			t.Fatal(err)
		}
		if d.Orientation != OrientNormal || d.Width != 200 || d.Height != 300 {
			t.Errorf("IgnoreOrientation: orientation %d %dx%d, want 1 200x300", d.Orientation, d.Width, d.Height)
		}
	}
}

// TestOrientationSourceIsPermutation: every orientation maps the displayed
// pixels one to one onto the stored ones.
func TestOrientationSourceIsPermutation(t *testing.T) {
	const w, h = 3, 5
	for o := OrientNormal; o <= OrientRotate270; o++ {
		dw, dh := o.DisplaySize(w, h)
		seen := map[image.Point]bool{}
		for y := range dh {
			for x := range dw {
				sx, sy := o.source(x, y, w, h)
				p := image.Pt(sx, sy)
				if !p.In(image.Rect(0, 0, w, h)) || seen[p] {
					t.Fatalf("orientation %d: (%d,%d) -> %v outside or twice", o, x, y, p)
				}
				seen[p] = true
			}
		}
	}
}

// TestReadOrientationBroken: malformed or absent EXIF means "as stored",
// never an error.
func TestReadOrientationBroken(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, cornerImage(8, 8), nil); err != nil {
		t.Fatal(err)
	}
	good := withEXIFOrientation(buf.Bytes(), 6, binary.LittleEndian)
	tests := []struct {
		name string
		data []byte
		want Orientation
	}{
		{"no EXIF", buf.Bytes(), OrientNormal},
		{"orientation 6", good, OrientRotate90},
		{"value 0", withEXIFOrientation(buf.Bytes(), 0, binary.LittleEndian), OrientNormal},
		{"value 9", withEXIFOrientation(buf.Bytes(), 9, binary.LittleEndian), OrientNormal},
		{"value 262 (6 in the low byte)", withEXIFOrientation(buf.Bytes(), 262, binary.BigEndian), OrientNormal},
		{"segment cut short", good[:30], OrientNormal},
		{"bad byte order", bytes.Replace(good, []byte("II*\x00"), []byte("XX*\x00"), 1), OrientNormal},
		{"not a JPEG", []byte("hello"), OrientNormal},
	}
	for _, tt := range tests {
		if got := readOrientation(FormatJPEG, tt.data); got != tt.want {
			t.Errorf("%s: orientation %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestTIFFOrientation: a TIFF's own Orientation tag (the tag EXIF inherits)
// is applied as a JPEG's EXIF orientation is.
func TestTIFFOrientation(t *testing.T) {
	var buf bytes.Buffer
	if err := tiff.Encode(&buf, cornerImage(20, 30), nil); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// Turn IFD0's ResolutionUnit entry (SHORT, one value) into Orientation 6,
	// keeping the entries sorted by tag.
	bo := binary.LittleEndian
	ifd := int(bo.Uint32(data[4:]))
	entries := data[ifd+2:][:12*int(bo.Uint16(data[ifd:]))]
	var sorted [][12]byte
	for e := 0; e < len(entries); e += 12 {
		ent := [12]byte(entries[e:])
		if bo.Uint16(ent[:]) == 296 {
			bo.PutUint16(ent[:], 0x0112)
			bo.PutUint16(ent[8:], uint16(OrientRotate90))
		}
		sorted = append(sorted, ent)
	}
	slices.SortFunc(sorted, func(a, b [12]byte) int { return int(bo.Uint16(a[:])) - int(bo.Uint16(b[:])) })
	for i, ent := range sorted {
		copy(entries[12*i:], ent[:])
	}
	if tiffOrientation(data) != OrientRotate90 {
		t.Fatal("tiff.Encode wrote no ResolutionUnit entry to rewrite")
	}
	d, err := DecodeWith(data, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Orientation != OrientRotate90 || d.Width != 30 || d.Height != 20 {
		t.Fatalf("got orientation %d %dx%d, want 6 30x20", d.Orientation, d.Width, d.Height)
	}
	// As in TestOrientationsDisplayUpright: red top right, green bottom right.
	if c := rgbAt(d.Image, 22, 5); c != [3]uint8{255, 0, 0} {
		t.Errorf("red quarter at (22,5) is %v", c)
	}
	if c := rgbAt(d.Image, 22, 15); c != [3]uint8{0, 255, 0} {
		t.Errorf("green quarter at (22,15) is %v", c)
	}
}
