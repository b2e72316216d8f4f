package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/vitseg/vitseg/model"
)

func TestClassNames(t *testing.T) {
	names := model.ClassNames()
	if !slices.Equal(names, []string{"pet", "background", "border"}) || len(names) != NumClasses {
		t.Fatalf("model.ClassNames() = %v", names)
	}
	if names[ClassPet] != "pet" || names[ClassBackground] != "background" || names[ClassBorder] != "border" {
		t.Fatalf("class constants do not index ClassNames: %v", names)
	}
	seen := map[color.RGBA]uint8{}
	for id := range 256 {
		c := ClassColor(uint8(id))
		if c.A != 255 {
			t.Errorf("ClassColor(%d) = %v is not opaque", id, c)
		}
		if id < NumClasses {
			if prev, dup := seen[c]; dup {
				t.Errorf("classes %d and %d share colour %v", prev, id, c)
			}
			seen[c] = uint8(id)
		}
	}
}

func TestMaskFromLogits(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name          string
		logits        []float32
		classes, h, w int
		want          []uint8
	}{
		{
			name:    "3 classes 2x2",
			classes: 3, h: 2, w: 2,
			logits: []float32{
				5, 0, 0, 1, // class 0 plane
				1, 6, 0, 2, // class 1
				0, 2, 7, 3, // class 2
			},
			want: []uint8{0, 1, 2, 2},
		},
		{
			name:    "ties go to the lowest id",
			classes: 3, h: 1, w: 3,
			logits: []float32{
				1, 0, 2,
				1, 3, 2,
				0, 3, 2,
			},
			want: []uint8{0, 1, 0},
		},
		{
			name:    "NaN is below everything, +Inf above",
			classes: 3, h: 1, w: 4,
			logits: []float32{
				nan, nan, -1e30, nan,
				-5, nan, inf, nan,
				-9, 1, inf, nan,
			},
			want: []uint8{1, 2, 1, 0},
		},
		{
			name:    "one class",
			classes: 1, h: 2, w: 1,
			logits: []float32{-1, 1},
			want:   []uint8{0, 0},
		},
		{
			name:    "non-square, row-major",
			classes: 2, h: 2, w: 3,
			logits: []float32{
				0, 0, 0, 0, 0, 0,
				1, -1, 1, -1, 1, -1,
			},
			want: []uint8{1, 0, 1, 0, 1, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := MaskFromLogits(tt.logits, tt.classes, tt.h, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			if m.Width != tt.w || m.Height != tt.h || !slices.Equal(m.Pix, tt.want) {
				t.Fatalf("got %dx%d %v, want %dx%d %v", m.Width, m.Height, m.Pix, tt.w, tt.h, tt.want)
			}
		})
	}
}

func TestMaskFromLogitsErrors(t *testing.T) {
	tests := []struct {
		name          string
		n             int
		classes, h, w int
	}{
		{"zero classes", 0, 0, 1, 1},
		{"257 classes", 257, 257, 1, 1},
		{"zero height", 0, 3, 0, 4},
		{"negative width", 3, 3, 1, -1},
		{"too few logits", 11, 3, 2, 2},
		{"too many logits", 13, 3, 2, 2},
		{"overflowing size", 3, 3, math.MaxInt / 2, 4},
	}
	for _, tt := range tests {
		if _, err := MaskFromLogits(make([]float32, tt.n), tt.classes, tt.h, tt.w); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestResizeMask(t *testing.T) {
	tests := []struct {
		name string
		in   *Mask
		w, h int
		want *Mask
	}{
		{
			name: "2x2 up to 4x4",
			in:   &Mask{2, 2, []uint8{0, 1, 2, 0}},
			w:    4, h: 4,
			want: &Mask{4, 4, []uint8{
				0, 0, 1, 1,
				0, 0, 1, 1,
				2, 2, 0, 0,
				2, 2, 0, 0,
			}},
		},
		{
			name: "4x4 down to 2x2 samples pixel centres (1,1),(3,1),(1,3),(3,3)",
			in: &Mask{4, 4, []uint8{
				9, 9, 9, 9,
				9, 0, 9, 1,
				9, 9, 9, 9,
				9, 2, 9, 0,
			}},
			w: 2, h: 2,
			want: &Mask{2, 2, []uint8{0, 1, 2, 0}},
		},
		{
			name: "3x1 to 2x3",
			in:   &Mask{3, 1, []uint8{0, 1, 2}},
			w:    2, h: 3,
			want: &Mask{2, 3, []uint8{0, 2, 0, 2, 0, 2}},
		},
		{
			name: "same size copies",
			in:   &Mask{2, 1, []uint8{2, 1}},
			w:    2, h: 1,
			want: &Mask{2, 1, []uint8{2, 1}},
		},
		{name: "nil mask", in: nil, w: 2, h: 2, want: nil},
		{name: "inconsistent mask", in: &Mask{2, 2, []uint8{0}}, w: 2, h: 2, want: nil},
		{name: "zero target", in: &Mask{1, 1, []uint8{0}}, w: 0, h: 2, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResizeMask(tt.in, tt.w, tt.h)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if got != nil && &got.Pix[0] == &tt.in.Pix[0] {
				t.Fatal("result shares the input's pixels")
			}
		})
	}
}

// TestResizeTrimap resizes a real ground-truth trimap to the model size: the
// values stay within the trimap's own {1,2,3} and every class survives.
func TestResizeTrimap(t *testing.T) {
	m, err := DecodeMaskPNG(bytes.NewReader(readDataset(t, "annotations/trimaps/Abyssinian_1.png")))
	if err != nil {
		t.Fatal(err)
	}
	if m.Width != 600 || m.Height != 400 {
		t.Fatalf("trimap is %dx%d, want 600x400", m.Width, m.Height)
	}
	r := ResizeMask(m, 224, 224)
	var seen [256]int
	for _, v := range r.Pix {
		seen[v]++
	}
	for v, n := range seen {
		if (v >= 1 && v <= 3) != (n > 0) {
			t.Errorf("value %d appears %d times in the resized trimap, want only and all of 1,2,3", v, n)
		}
	}
}

func TestEncodeMaskPNGRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		m         *Mask
		depth     byte // PNG bit depth the palette size allows
		paletteSz int
	}{
		{"three classes", &Mask{3, 2, []uint8{0, 1, 2, 2, 1, 0}}, 2, 3},
		{"only pet", &Mask{2, 2, []uint8{0, 0, 0, 0}}, 2, 3},
		{"1x1 border", &Mask{1, 1, []uint8{2}}, 2, 3},
		{"id 7", &Mask{4, 1, []uint8{0, 7, 1, 2}}, 4, 8},
		{"id 255", &Mask{2, 1, []uint8{255, 0}}, 8, 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeMaskPNG(&buf, tt.m); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			if colorType, depth := data[25], data[24]; colorType != 3 || depth != tt.depth {
				t.Errorf("IHDR colour type %d depth %d, want paletted (3) depth %d", colorType, depth, tt.depth)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			p, ok := img.(*image.Paletted)
			if !ok {
				t.Fatalf("decoded as %T, want *image.Paletted", img)
			}
			if len(p.Palette) != tt.paletteSz {
				t.Errorf("palette has %d entries, want %d", len(p.Palette), tt.paletteSz)
			}
			for i, c := range p.Palette {
				if got, want := color.RGBAModel.Convert(c), ClassColor(uint8(i)); got != want {
					t.Errorf("palette[%d] = %v, want %v", i, got, want)
				}
			}
			for y := range tt.m.Height {
				for x := range tt.m.Width {
					if got, want := p.ColorIndexAt(x, y), tt.m.Pix[y*tt.m.Width+x]; got != want {
						t.Errorf("index at (%d,%d) = %d, want class %d", x, y, got, want)
					}
				}
			}
			back, err := DecodeMaskPNG(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tt.m) {
				t.Errorf("DecodeMaskPNG = %+v, want %+v", back, tt.m)
			}
		})
	}
}

func TestEncodeMaskPNGInvalid(t *testing.T) {
	for _, m := range []*Mask{nil, {0, 1, nil}, {2, 2, []uint8{1, 2, 3}}, {-1, -1, []uint8{0}}} {
		if err := EncodeMaskPNG(&bytes.Buffer{}, m); err == nil {
			t.Errorf("EncodeMaskPNG(%+v) succeeded", m)
		}
	}
}

func TestDecodeMaskPNGRefusals(t *testing.T) {
	rgb := image.NewRGBA(image.Rect(0, 0, 2, 2))
	gray2 := &bytes.Buffer{}
	// A 2-bit gray PNG: the decoder would rescale 0..3 to 0..255.
	enc := []byte("\x89PNG\r\n\x1a\n")
	enc = append(enc, pngChunk("IHDR", []byte{0, 0, 0, 1, 0, 0, 0, 1, 2, 0, 0, 0, 0})...)
	gray2.Write(enc)
	tests := []struct {
		name string
		data []byte
		kind Kind
	}{
		{"empty", nil, KindEmpty},
		{"JPEG", rgbJPEG(), KindUnknownFormat},
		{"RGBA PNG", encodePNG(t, rgb), KindUnknownFormat},
		{"2-bit gray PNG", gray2.Bytes(), KindUnknownFormat},
		{"bomb header", pngHeaderOnly(50000, 50000), KindTooManyPixels},
		{"truncated", encodePNG(t, grayImage())[:40], KindCorrupt},
	}
	for _, tt := range tests {
		_, err := DecodeMaskPNG(bytes.NewReader(tt.data))
		var ie *Error
		if !errors.As(err, &ie) || ie.Kind != tt.kind {
			t.Errorf("%s: got %v, want kind %s", tt.name, err, tt.kind)
		}
	}
}

func TestComputeStats(t *testing.T) {
	tests := []struct {
		name    string
		m       *Mask
		classes int
		want    Stats
	}{
		{
			name: "pet block in the middle",
			m: &Mask{4, 3, []uint8{
				1, 1, 1, 1,
				1, 0, 2, 1,
				1, 0, 0, 1,
			}},
			classes: 3,
			want:    Stats{Fractions: []float64{3.0 / 12, 8.0 / 12, 1.0 / 12}, PetBBox: &BBox{X0: 1, Y0: 1, X1: 3, Y1: 3}},
		},
		{
			name:    "no pet",
			m:       &Mask{2, 2, []uint8{1, 1, 2, 1}},
			classes: 3,
			want:    Stats{Fractions: []float64{0, 0.75, 0.25}},
		},
		{
			name:    "all pet",
			m:       &Mask{3, 2, []uint8{0, 0, 0, 0, 0, 0}},
			classes: 3,
			want:    Stats{Fractions: []float64{1, 0, 0}, PetBBox: &BBox{0, 0, 3, 2}},
		},
		{
			name:    "scattered pet pixels at the corners",
			m:       &Mask{3, 3, []uint8{1, 1, 0, 1, 1, 1, 0, 1, 1}},
			classes: 3,
			want:    Stats{Fractions: []float64{2.0 / 9, 7.0 / 9, 0}, PetBBox: &BBox{0, 0, 3, 3}},
		},
		{
			name:    "ids beyond the classes count in no fraction",
			m:       &Mask{4, 1, []uint8{0, 5, 1, 1}},
			classes: 2,
			want:    Stats{Fractions: []float64{0.25, 0.5}, PetBBox: &BBox{0, 0, 1, 1}},
		},
		{
			name:    "nil mask",
			m:       nil,
			classes: 3,
			want:    Stats{Fractions: []float64{0, 0, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ComputeStats(tt.m, tt.classes)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v (bbox %+v), want %+v (bbox %+v)", got, got.PetBBox, tt.want, tt.want.PetBBox)
			}
		})
	}
}

func TestOverlay(t *testing.T) {
	// A 4x2 photo at an offset origin, as a SubImage would have.
	photo := image.NewRGBA(image.Rect(10, 10, 14, 12))
	for i := 0; i < len(photo.Pix); i += 4 {
		copy(photo.Pix[i:], []uint8{100, 150, 200, 255})
	}
	// A 2x1 mask, resized by nearest to 4x2: left half pet, right half border.
	m := &Mask{2, 1, []uint8{ClassPet, ClassBorder}}
	pet, border := ClassColor(ClassPet), ClassColor(ClassBorder)
	mix := func(p, c uint8) uint8 { return uint8((uint32(p)*128 + uint32(c)*128 + 128) >> 8) }

	tests := []struct {
		name        string
		mask        *Mask
		alpha       float64
		left, right [3]uint8
	}{
		{"alpha 0 keeps the photo", m, 0, [3]uint8{100, 150, 200}, [3]uint8{100, 150, 200}},
		{"NaN alpha keeps the photo", m, math.NaN(), [3]uint8{100, 150, 200}, [3]uint8{100, 150, 200}},
		{"nil mask keeps the photo", nil, 0.5, [3]uint8{100, 150, 200}, [3]uint8{100, 150, 200}},
		{"alpha 1 paints the classes", m, 1, [3]uint8{pet.R, pet.G, pet.B}, [3]uint8{border.R, border.G, border.B}},
		{"alpha above 1 clamps", m, 7, [3]uint8{pet.R, pet.G, pet.B}, [3]uint8{border.R, border.G, border.B}},
		{"alpha 0.5 mixes", m, 0.5,
			[3]uint8{mix(100, pet.R), mix(150, pet.G), mix(200, pet.B)},
			[3]uint8{mix(100, border.R), mix(150, border.G), mix(200, border.B)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Overlay(photo, tt.mask, tt.alpha)
			checkOpaque(t, out, 4, 2)
			for y := range 2 {
				for x := range 4 {
					want := tt.left
					if x >= 2 {
						want = tt.right
					}
					if got := rgbAt(out, x, y); got != want {
						t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
					}
				}
			}
		})
	}
	if got := rgbAt(photo, 10, 10); got != [3]uint8{100, 150, 200} {
		t.Errorf("Overlay modified its input: %v", got)
	}
}

// TestOverlayRealPhoto overlays the ground-truth trimap of a real photo and
// checks the size and that pet pixels turned towards orange.
func TestOverlayRealPhoto(t *testing.T) {
	d := decodeDataset(t, "images/Abyssinian_1.jpg")
	tri, err := DecodeMaskPNG(bytes.NewReader(readDataset(t, "annotations/trimaps/Abyssinian_1.png")))
	if err != nil {
		t.Fatal(err)
	}
	for i := range tri.Pix {
		tri.Pix[i]-- // trimap 1..3 -> class ids 0..2
	}
	small := ResizeMask(tri, 224, 224) // as a model output would be
	out := Overlay(d.Image, small, 1)
	checkOpaque(t, out, d.Width, d.Height)
	back := ResizeMask(small, d.Width, d.Height)
	for i, id := range back.Pix {
		c := ClassColor(id)
		if got := [3]uint8{out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2]}; got != [3]uint8{c.R, c.G, c.B} {
			t.Fatalf("pixel %d = %v, want class %d colour %v", i, got, id, c)
		}
	}
	st := ComputeStats(back, NumClasses)
	if st.PetBBox == nil || st.Fractions[ClassPet] < 0.05 || st.Fractions[ClassBackground] < 0.05 {
		t.Fatalf("implausible trimap stats %+v", st)
	}
	t.Logf("Abyssinian_1 trimap: fractions %.3f, pet bbox %+v", st.Fractions, *st.PetBBox)
}
