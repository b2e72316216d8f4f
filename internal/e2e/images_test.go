package e2e

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // decode the sample photos
	"image/png"
	"testing"
)

// Crafted inputs for the bad-input corpus. craftJPEG and its helpers are copied from model/imaging's
// helpers_test.go (test code cannot be imported across packages).

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

// pngChunk returns one PNG chunk with a valid CRC.
func pngChunk(typ string, data []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// pngHeaderOnly returns a PNG signature, an IHDR declaring w x h 8-bit RGBA (valid CRC) and IEND, with no
// pixel data: a decompression-bomb header.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	return append(b, pngChunk("IEND", nil)...)
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

// jpegSOF0 is a baseline frame header with nComp components, all sampled 1x1 and using quantisation table 0.
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

// craftJPEG writes a baseline JPEG of w x h pixels (multiples of 8) with nComp (3 or 4) components and no
// subsampling, where every 8x8 block of component c is flat with the sample value value(c, bx, by). adobe >= 0
// adds an Adobe APP14 marker with that colour transform (0: RGB or CMYK, 1: YCbCr, 2: YCCK).
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
	dht := []byte{0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	dht = append(dht, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	out = append(out, jpegSegment(0xc4, dht)...)
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

// cmykJPEG is a 64x64 Adobe CMYK JPEG with cyan, magenta, yellow and half-black blocks (ink stored inverted,
// as Adobe does).
func cmykJPEG() []byte {
	inks := [4][]uint8{{0, 255, 255, 255}, {255, 0, 255, 255}, {255, 255, 0, 255}, {255, 255, 255, 127}}
	return craftJPEG(64, 64, 4, 0, func(c, bx, by int) uint8 { return inks[(bx+by)%4][c] })
}
