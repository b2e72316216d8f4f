package imaging

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// EncodePNG writes u as EncodeMaskPNG writes its full-size mask, upsampling
// each row as it is encoded. A MaskEncoder does the same cheaper when many
// masks are written.
func (u UpsampledMask) EncodePNG(w io.Writer) error {
	var e MaskEncoder
	return e.Encode(w, u)
}

// MaskEncoder writes mask PNGs as UpsampledMask.EncodePNG does, reusing its
// compressors and buffers: setting up a compressor costs more CPU than
// compressing a typical mask. The zero value is ready to use; it is safe
// for concurrent use.
type MaskEncoder struct {
	writers sync.Pool // *maskWriters
}

// maskWriters are the compressor (zlib.BestSpeed) and the IDAT chunk buffer
// of one mask being encoded.
type maskWriters struct {
	zw   *zlib.Writer
	idat *bufio.Writer
}

// Encode writes u to w.
func (e *MaskEncoder) Encode(w io.Writer, u UpsampledMask) error {
	if err := u.valid(); err != nil {
		return fmt.Errorf("imaging: EncodeMaskPNG: %w", err)
	}
	mw, _ := e.writers.Get().(*maskWriters)
	if mw == nil {
		zw, err := zlib.NewWriterLevel(io.Discard, zlib.BestSpeed)
		if err != nil {
			return fmt.Errorf("imaging: EncodeMaskPNG: %w", err)
		}
		mw = &maskWriters{zw: zw, idat: bufio.NewWriterSize(io.Discard, 1<<15)}
	}
	defer func() {
		mw.idat.Reset(io.Discard) // the pool keeps no reference to w
		e.writers.Put(mw)
	}()
	if err := encodeMaskPNG(w, u.Base, u.Width, u.Height, mw); err != nil {
		return fmt.Errorf("imaging: EncodeMaskPNG: %w", err)
	}
	return nil
}

// EncodeMaskPNG writes m as a paletted PNG whose pixel values (palette
// indices) are the class ids and whose palette is ClassColor, so the file is
// both machine-readable and viewable. Masks of the known classes (ids 0..3)
// are written at 2 bits per pixel; masks with larger ids at 4 or 8. The
// rows are deflated at klauspost/compress's fastest level with no PNG
// filter: docs/PERFORMANCE.md §3 has the cost and sizes.
func EncodeMaskPNG(w io.Writer, m *Mask) error {
	if err := m.valid(); err != nil {
		return fmt.Errorf("imaging: EncodeMaskPNG: %w", err)
	}
	return UpsampledMask{Base: m, Width: m.Width, Height: m.Height}.EncodePNG(w)
}

// pngSignature starts every PNG file.
const pngSignature = "\x89PNG\r\n\x1a\n"

// encodeMaskPNG writes base upsampled to w x h (nearest neighbour).
func encodeMaskPNG(out io.Writer, base *Mask, w, h int, mw *maskWriters) error {
	maxID := maxByte(base.Pix)
	depth := 8
	switch {
	case maxID < 4:
		depth = 2
	case maxID < 16:
		depth = 4
	}
	cw := &pngChunkWriter{w: out}
	if _, err := io.WriteString(out, pngSignature); err != nil {
		return err
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = byte(depth), 3 // bit depth, colour type 3: paletted
	if err := cw.chunk("IHDR", ihdr[:]); err != nil {
		return err
	}
	pal := maskPalette(maxID)
	plte := make([]byte, 0, 3*len(pal))
	for i := range pal {
		c := ClassColor(uint8(i))
		plte = append(plte, c.R, c.G, c.B)
	}
	if err := cw.chunk("PLTE", plte); err != nil {
		return err
	}
	if err := writeMaskIDAT(cw, mw, base, w, h, depth); err != nil {
		return err
	}
	return cw.chunk("IEND", nil)
}

// writeMaskIDAT deflates the rows of base upsampled to w x h into IDAT
// chunks through mw's compressor and buffer (reset here). Each row is packed once per distinct
// source row.
func writeMaskIDAT(cw *pngChunkWriter, mw *maskWriters, base *Mask, w, h, depth int) error {
	idat, zw := mw.idat, mw.zw
	idat.Reset(idatWriter{cw})
	zw.Reset(idat)
	xs := nearestIndex(w, base.Width)
	perByte := 8 / depth
	row := make([]byte, 1+(w+perByte-1)/perByte) // filter byte 0 (None), then the packed pixels
	prev := -1
	for _, sy := range nearestIndex(h, base.Height) {
		if sy != prev {
			src := base.Pix[sy*base.Width:][:base.Width]
			if depth == 2 && w == base.Width { // a full-size mask, the pipeline's: xs is 0, 1, 2, ...
				packRow2Identity(row[1:], src)
			} else {
				packRow(row[1:], src, xs, depth)
			}
			prev = sy
		}
		if _, err := zw.Write(row); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return idat.Flush()
}

// packRow writes src sampled at xs into dst, depth bits per pixel, the
// leftmost pixel in the high bits (PNG's order); padding bits are 0.
func packRow(dst, src []uint8, xs []int, depth int) {
	if depth == 2 {
		packRow2(dst, src, xs)
		return
	}
	clear(dst)
	perByte := 8 / depth
	for x, sx := range xs {
		shift := 8 - depth*(x%perByte+1)
		dst[x/perByte] |= src[sx] << shift
	}
}

// maxByte returns the largest byte of p (0 for none). The bitwise OR of all
// bytes bounds it from above, and it is found by searching down from that
// bound with bytes.IndexByte, which is vectorised: a mask of ids 0..2 takes
// one pass of ORs and two searches instead of a comparison per pixel.
func maxByte(p []byte) uint8 {
	var or64 uint64
	rest := p
	for ; len(rest) >= 8; rest = rest[8:] {
		or64 |= binary.LittleEndian.Uint64(rest)
	}
	var or uint8
	for ; or64 != 0; or64 >>= 8 {
		or |= uint8(or64)
	}
	for _, b := range rest {
		or |= b
	}
	for v := int(or); v > 0; v-- {
		if bytes.IndexByte(p, uint8(v)) >= 0 {
			return uint8(v)
		}
	}
	return 0
}

// packRow2 is packRow at 2 bits per pixel, four pixels a byte.
func packRow2(dst, src []uint8, xs []int) {
	n := len(xs) &^ 3
	for i := 0; i < n; i += 4 {
		q := xs[i : i+4 : i+4]
		dst[i>>2] = src[q[0]]<<6 | src[q[1]]<<4 | src[q[2]]<<2 | src[q[3]]
	}
	if n < len(xs) {
		var v uint8
		for k, sx := range xs[n:] {
			v |= src[sx] << (6 - 2*k)
		}
		dst[n>>2] = v
	}
}

// packRow2Identity is packRow2 with xs = 0, 1, ..., len(src)-1, every id
// below 4. It packs eight pixels at a time from one 64-bit load: adjacent
// bytes merge into 4-bit pairs, adjacent pairs into the output bytes.
func packRow2Identity(dst, src []uint8) {
	n := len(src) &^ 7
	for i := 0; i < n; i += 8 {
		t := binary.LittleEndian.Uint64(src[i:])
		p := (t<<2 | t>>8) & 0x000F000F000F000F  // each 16 bits: src[2k]<<2 | src[2k+1]
		q := (p<<4 | p>>16) & 0x000000FF000000FF // each 32 bits: the packed byte of 4 pixels
		dst[i>>2], dst[i>>2+1] = uint8(q), uint8(q>>32)
	}
	for k, id := range src[n:] {
		j := (n + k) >> 2
		if k&3 == 0 {
			dst[j] = 0
		}
		dst[j] |= id << (6 - 2*(k&3))
	}
}

// pngChunkWriter writes PNG chunks, remembering the first error.
type pngChunkWriter struct {
	w   io.Writer
	err error
}

func (c *pngChunkWriter) chunk(typ string, data []byte) error {
	if c.err != nil {
		return c.err
	}
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:8])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, b := range [][]byte{hdr[:], data, tail[:]} {
		if _, err := c.w.Write(b); err != nil {
			c.err = err
			return err
		}
	}
	return nil
}

// idatWriter turns each Write into one IDAT chunk (bufio sizes them).
type idatWriter struct{ cw *pngChunkWriter }

func (i idatWriter) Write(p []byte) (int, error) {
	if err := i.cw.chunk("IDAT", p); err != nil {
		return 0, err
	}
	return len(p), nil
}
