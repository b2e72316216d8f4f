package imaging

import (
	"bytes"
	"encoding/binary"
	"flag"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json and the fuzz seed corpus in testdata/fuzz")

// datasetDir returns the Oxford-IIIT Pet sample directory: $VITSEG_DATASET_DIR,
// else the shared checkout next to the repository. A missing dataset fails
// the test (it is part of the test environment), except under -short.
func datasetDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("VITSEG_DATASET_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "datasets", "oxford-pets-sample")
	}
	fi, err := os.Stat(filepath.Join(dir, "images"))
	if err == nil && !fi.IsDir() {
		err = os.ErrNotExist
	}
	if err != nil {
		if testing.Short() {
			tb.Skipf("-short: dataset not available at %s: %v", dir, err)
		}
		tb.Fatalf("the Oxford-IIIT Pet sample is required at %s (set VITSEG_DATASET_DIR to the "+
			"oxford-pets-sample directory, or run with -short to skip dataset tests): %v", dir, err)
	}
	return dir
}

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
func pngChunk(typ string, data []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// pngHeaderOnly returns a PNG signature, an IHDR declaring w x h 8-bit RGBA
// (valid CRC) and IEND, with no pixel data: a decompression-bomb header.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // depth 8, RGBA, deflate, filter 0, no interlace
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	return append(b, pngChunk("IEND", nil)...)
}

// gifHeaderOnly returns a GIF89a logical screen descriptor of w x h and the
// trailer, with no frame.
func gifHeaderOnly(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0, ';')
}

// jpegBitWriter writes entropy-coded JPEG data with 0xFF byte stuffing.
type jpegBitWriter struct {
	buf []byte
	acc byte
	n   uint
}

func (w *jpegBitWriter) write(bits uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | byte(bits>>uint(i)&1)
		w.n++
		if w.n == 8 {
			w.buf = append(w.buf, w.acc)
			if w.acc == 0xff {
				w.buf = append(w.buf, 0)
			}
			w.acc, w.n = 0, 0
		}
	}
}

func (w *jpegBitWriter) flush() {
	for w.n != 0 {
		w.write(1, 1)
	}
}

func jpegSegment(marker byte, payload []byte) []byte {
	b := []byte{0xff, marker}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)+2))
	return append(b, payload...)
}

// jpegSOF0 is a baseline frame header with nComp components, all sampled
// 1x1 and using quantisation table 0.
func jpegSOF0(w, h, nComp int) []byte {
	p := []byte{8}
	p = binary.BigEndian.AppendUint16(p, uint16(h))
	p = binary.BigEndian.AppendUint16(p, uint16(w))
	p = append(p, byte(nComp))
	for c := range nComp {
		p = append(p, byte(c+1), 0x11, 0)
	}
	return jpegSegment(0xc0, p)
}

// craftJPEG writes a baseline JPEG of w x h pixels (multiples of 8) with
// nComp (3 or 4) components and no subsampling, where every 8x8 block of
// component c is flat with the sample value value(c, bx, by). adobe >= 0
// adds an Adobe APP14 marker with that colour transform (0: RGB or CMYK,
// 1: YCbCr, 2: YCCK). The standard library encoder cannot write CMYK, YCCK
// or RGB JPEGs, so this tiny encoder (DC-only blocks, quantiser 1, a 4-bit
// fixed-length DC Huffman table and an EOB-only AC table) makes them.
func craftJPEG(w, h, nComp, adobe int, value func(c, bx, by int) uint8) []byte {
	out := []byte{0xff, 0xd8}
	if adobe >= 0 {
		out = append(out, jpegSegment(0xee, []byte{'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, byte(adobe)})...)
	}
	dqt := make([]byte, 65)
	for i := 1; i < len(dqt); i++ {
		dqt[i] = 1
	}
	out = append(out, jpegSegment(0xdb, dqt)...)
	out = append(out, jpegSOF0(w, h, nComp)...)
	// DC table 0: categories 0..11, all with 4-bit codes (code == category).
	dht := []byte{0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	dht = append(dht, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	out = append(out, jpegSegment(0xc4, dht)...)
	// AC table 0: EOB (code 00) and one unused symbol (code 01).
	out = append(out, jpegSegment(0xc4, []byte{0x10, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01})...)
	sos := []byte{byte(nComp)}
	for c := range nComp {
		sos = append(sos, byte(c+1), 0x00)
	}
	out = append(out, jpegSegment(0xda, append(sos, 0, 63, 0))...)

	var bw jpegBitWriter
	prev := make([]int, nComp)
	for by := 0; by < h/8; by++ {
		for bx := 0; bx < w/8; bx++ {
			for c := range nComp {
				dc := (int(value(c, bx, by)) - 128) * 8
				diff := dc - prev[c]
				prev[c] = dc
				s, a := uint(0), diff
				if a < 0 {
					a = -a
				}
				for ; a > 0; a >>= 1 {
					s++
				}
				bits := uint32(diff)
				if diff < 0 {
					bits = uint32(diff + (1 << s) - 1)
				}
				bw.write(uint32(s), 4)
				bw.write(bits&(1<<s-1), s)
				bw.write(0, 2) // EOB
			}
		}
	}
	bw.flush()
	out = append(out, bw.buf...)
	return append(out, 0xff, 0xd9)
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

// jpegHeaderOnly returns SOI, a frame header declaring w x h and a scan
// header with no scan data: enough for DecodeConfig (which, without a JFIF
// marker, reads up to the scan header), nothing to decode.
func jpegHeaderOnly(w, h int) []byte {
	b := append([]byte{0xff, 0xd8}, jpegSOF0(w, h, 3)...)
	return append(b, jpegSegment(0xda, []byte{3, 1, 0, 2, 0, 3, 0, 0, 63, 0})...)
}

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
