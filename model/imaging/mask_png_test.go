package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"
)

func randomMask(r *rand.Rand, w, h, classes int) *Mask {
	m := NewMask(w, h)
	for i := range m.Pix {
		m.Pix[i] = uint8(r.IntN(classes))
	}
	return m
}

// TestUpsampledMaskPNG: the fused upsample-and-encode writes what
// EncodeMaskPNG of the full-size mask means: a PNG that image/png decodes
// as paletted, with the class ids as indices, at the photo's size, at 2 bits
// per pixel for the three classes (4 and 8 bits for larger ids).
func TestUpsampledMaskPNG(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		bw, bh, w, h, classes, depth int
	}{
		{128, 128, 500, 375, 3, 2},
		{128, 128, 1, 1, 3, 2},
		{4, 3, 5, 7, 4, 2}, // widths that do not fill the last byte
		{4, 3, 6, 2, 3, 2},
		{3, 3, 3, 3, 3, 2}, // no upsampling
		{128, 128, 64, 32, 3, 2},
		{16, 16, 33, 17, 16, 4},
		{16, 16, 31, 9, 200, 8},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%dx%d->%dx%d/%d", tt.bw, tt.bh, tt.w, tt.h, tt.classes)
		base := randomMask(r, tt.bw, tt.bh, tt.classes)
		base.Pix[0] = uint8(tt.classes - 1) // the largest id is present
		u := UpsampledMask{Base: base, Width: tt.w, Height: tt.h}
		var buf bytes.Buffer
		if err := u.EncodePNG(&buf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if depth, ct := buf.Bytes()[24], buf.Bytes()[25]; int(depth) != tt.depth || ct != 3 {
			t.Errorf("%s: bit depth %d colour type %d, want %d and 3 (paletted)", name, depth, ct, tt.depth)
		}
		img, err := png.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%s: image/png: %v", name, err)
		}
		p, ok := img.(*image.Paletted)
		if !ok || p.Rect != image.Rect(0, 0, tt.w, tt.h) {
			t.Fatalf("%s: decoded %T %v, want *image.Paletted %dx%d", name, img, img.Bounds(), tt.w, tt.h)
		}
		full := ResizeMask(base, tt.w, tt.h)
		for y := range tt.h {
			if got, want := p.Pix[y*p.Stride:][:tt.w], full.Pix[y*tt.w:][:tt.w]; !bytes.Equal(got, want) {
				t.Fatalf("%s: row %d = %v, want %v", name, y, got, want)
			}
		}
		back, err := DecodeMaskPNG(bytes.NewReader(buf.Bytes()))
		if err != nil || !reflect.DeepEqual(back, full) {
			t.Fatalf("%s: DecodeMaskPNG: %v", name, err)
		}
		var direct bytes.Buffer
		if err := EncodeMaskPNG(&direct, full); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(direct.Bytes(), buf.Bytes()) {
			t.Errorf("%s: EncodeMaskPNG of the full mask differs from the fused encoding", name)
		}
	}
}

// TestUpsampledMaskStats: the statistics counted at the model resolution are
// exactly those of the full-size mask.
func TestUpsampledMaskStats(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	sizes := [][4]int{{128, 128, 500, 375}, {128, 128, 100, 60}, {5, 4, 7, 9}, {1, 1, 3, 3}, {8, 8, 8, 8}}
	for _, sz := range sizes {
		for _, classes := range []int{2, 3} {
			base := randomMask(r, sz[0], sz[1], classes)
			if classes == 2 {
				for i := range base.Pix { // pet pixels in a corner only: a tight box
					base.Pix[i] = ClassBackground
				}
				base.Pix[len(base.Pix)-1] = ClassPet
			}
			u := UpsampledMask{Base: base, Width: sz[2], Height: sz[3]}
			want := ComputeStats(u.Full(), 3)
			if got := u.Stats(3); !reflect.DeepEqual(got, want) {
				t.Errorf("%v/%d classes: stats %+v %+v, want %+v %+v", sz, classes, got, got.PetBBox, want, want.PetBBox)
			}
		}
	}
	if st := (UpsampledMask{}).Stats(3); len(st.Fractions) != 3 || st.PetBBox != nil {
		t.Errorf("invalid mask: stats %+v", st)
	}
}

// TestFullSizeStats: the fast count of a full-size mask equals the
// sampled count, whatever the classes and ids beyond them.
func TestFullSizeStats(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][2]int{{500, 375}, {1, 1}, {7, 3}, {64, 1}} {
		for _, classes := range []int{0, 1, 2, 3, 4, 9, 300} {
			for _, ids := range []int{2, 3, 12} {
				m := randomMask(r, sz[0], sz[1], ids)
				u := UpsampledMask{Base: m, Width: m.Width, Height: m.Height}
				fast := Stats{Fractions: make([]float64, classes)}
				u.fullSizeStats(&fast)
				want := Stats{Fractions: make([]float64, classes)}
				u.sampledStats(&want)
				if !reflect.DeepEqual(fast, want) {
					t.Errorf("%v, %d classes, ids < %d: %+v %+v, want %+v %+v", sz, classes, ids, fast, fast.PetBBox,
						want, want.PetBBox)
				}
			}
		}
	}
}

// BenchmarkUpsampledMaskStats: the statistics of a full-size 500x375 mask
// (the pipeline's), also by the sampled count for comparison, and of a
// 128x128 mask shown at 500x375.
func BenchmarkUpsampledMaskStats(b *testing.B) {
	full := UpsampledMask{Base: ResizeMask(blobMask(128, 128), 500, 375), Width: 500, Height: 375}
	for _, bm := range []struct {
		name  string
		stats func() Stats
	}{
		{"full size 500x375", func() Stats { return full.Stats(3) }},
		{"full size 500x375 sampled count", func() Stats {
			st := Stats{Fractions: make([]float64, 3)}
			full.sampledStats(&st)
			return st
		}},
		{"128x128 shown at 500x375", func() Stats {
			return UpsampledMask{Base: blobMask(128, 128), Width: 500, Height: 375}.Stats(3)
		}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bm.stats()
			}
		})
	}
}

// TestUpsampledMaskInvalid: nothing is written for a mask that cannot be shown.
func TestUpsampledMaskInvalid(t *testing.T) {
	for _, u := range []UpsampledMask{{}, {Base: NewMask(2, 2)}, {Base: NewMask(2, 2), Width: -1, Height: 3},
		{Base: &Mask{Width: 2, Height: 2, Pix: []uint8{1}}, Width: 3, Height: 3}} {
		var buf bytes.Buffer
		if err := u.EncodePNG(&buf); err == nil || buf.Len() != 0 {
			t.Errorf("%+v: err %v, %d bytes written", u, err, buf.Len())
		}
		if u.Full() != nil {
			t.Errorf("%+v: Full is not nil", u)
		}
	}
}

// BenchmarkEncodeMaskPNG: a 128x128 model mask shown at 500x375, and a
// full-size 500x375 mask through a MaskEncoder (the pipeline's case).
func BenchmarkEncodeMaskPNG(b *testing.B) {
	var enc MaskEncoder
	for _, bm := range []struct {
		name   string
		u      UpsampledMask
		encode func(io.Writer, UpsampledMask) error
	}{
		{"128x128 shown at 500x375", UpsampledMask{Base: blobMask(128, 128), Width: 500, Height: 375},
			func(w io.Writer, u UpsampledMask) error { return u.EncodePNG(w) }},
		{"full size 500x375, MaskEncoder", UpsampledMask{Base: ResizeMask(blobMask(128, 128), 500, 375), Width: 500,
			Height: 375}, enc.Encode},
	} {
		b.Run(bm.name, func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := bm.encode(&buf, bm.u); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/mask")
		})
	}
}

// blobMask is a mask shaped like a prediction: an elliptic pet, a border
// ring around it, background elsewhere.
func blobMask(w, h int) *Mask {
	m := NewMask(w, h)
	for y := range h {
		for x := range w {
			dx, dy := float64(x-w/2)/float64(w/3), float64(y-h/2)/float64(h/3)
			switch d := dx*dx + dy*dy; {
			case d < 0.8:
				m.Pix[y*w+x] = ClassPet
			case d < 1:
				m.Pix[y*w+x] = ClassBorder
			default:
				m.Pix[y*w+x] = ClassBackground
			}
		}
	}
	return m
}

func TestMaxByte(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		want uint8
	}{
		{"empty", nil, 0},
		{"zeros", make([]byte, 37), 0},
		{"ids 0..2 past a word", append(make([]byte, 20), 2, 1, 0), 2},
		{"or of 1 and 2 is 3 but the max is 2", []byte{1, 2, 1, 2, 1, 2, 1, 2, 1}, 2},
		{"largest in the tail", []byte{0, 0, 0, 0, 0, 0, 0, 0, 3}, 3},
		{"255", []byte{7, 255, 4}, 255},
	}
	for _, tt := range tests {
		if got := maxByte(tt.p); got != tt.want {
			t.Errorf("%s: maxByte = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestPackRow2Identity: packing a full-size row equals packRow2 over the
// identity sampling, at every length modulo 4.
func TestPackRow2Identity(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := range 41 {
		src := make([]uint8, n)
		for i := range src {
			src[i] = uint8(r.IntN(4))
		}
		want, got := make([]byte, (n+3)/4), make([]byte, (n+3)/4)
		packRow2(want, src, nearestIndex(n, n))
		packRow2Identity(got, src)
		if !bytes.Equal(got, want) {
			t.Errorf("n=%d: %x, want %x", n, got, want)
		}
	}
}
