// Package imagetest crafts image files for tests that the standard library encoders cannot write: PNG, BMP,
// TIFF and WebP headers that declare huge images (decompression bombs), baseline JPEGs with CMYK, YCCK or RGB
// components, BMP and TIFF files (golang.org/x/image's encoders), and EXIF orientation tags.
package imagetest

import (
	"encoding/binary"
	"hash/crc32"
)

// PNGChunk returns one PNG chunk with a valid CRC.
func PNGChunk(typ string, data []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// PNGHeaderOnly returns a PNG signature, an IHDR declaring w x h 8-bit RGBA
// (valid CRC) and IEND, with no pixel data: a decompression-bomb header.
func PNGHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // depth 8, RGBA, deflate, filter 0, no interlace
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, PNGChunk("IHDR", ihdr)...)
	return append(b, PNGChunk("IEND", nil)...)
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

// CraftJPEG writes a baseline JPEG of w x h pixels (multiples of 8) with
// nComp (3 or 4) components and no subsampling, where every 8x8 block of
// component c is flat with the sample value value(c, bx, by). adobe >= 0
// adds an Adobe APP14 marker with that colour transform (0: RGB or CMYK,
// 1: YCbCr, 2: YCCK). The standard library encoder cannot write CMYK, YCCK
// or RGB JPEGs, so this tiny encoder (DC-only blocks, quantiser 1, a 4-bit
// fixed-length DC Huffman table and an EOB-only AC table) makes them.
func CraftJPEG(w, h, nComp, adobe int, value func(c, bx, by int) uint8) []byte {
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

// JPEGHeaderOnly returns SOI, a frame header declaring w x h and a scan header with no scan data: enough for
// image.DecodeConfig (which, without a JFIF marker, reads up to the scan header), nothing to decode.
func JPEGHeaderOnly(w, h int) []byte {
	b := append([]byte{0xff, 0xd8}, jpegSOF0(w, h, 3)...)
	return append(b, jpegSegment(0xda, []byte{3, 1, 0, 2, 0, 3, 0, 0, 63, 0})...)
}

// WithEXIFOrientation inserts an APP1 Exif segment holding only IFD0's
// Orientation tag (value o) right after the SOI marker of a JPEG.
func WithEXIFOrientation(jpg []byte, o uint16, bo binary.ByteOrder) []byte {
	tiff := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(tiff, "II")
	} else {
		copy(tiff, "MM")
	}
	bo.PutUint16(tiff[2:], 42)
	bo.PutUint32(tiff[4:], 8)
	bo.PutUint16(tiff[8:], 1)       // one entry
	bo.PutUint16(tiff[10:], 0x0112) // Orientation
	bo.PutUint16(tiff[12:], 3)      // SHORT
	bo.PutUint32(tiff[14:], 1)      // count
	bo.PutUint16(tiff[18:], o)      // value, left-justified in the 4 bytes
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}
