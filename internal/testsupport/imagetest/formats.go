package imagetest

import (
	"bytes"
	"encoding/binary"
	"image"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// BMP encodes img as an uncompressed BMP.
func BMP(img image.Image) []byte {
	var buf bytes.Buffer
	if err := bmp.Encode(&buf, img); err != nil {
		panic(err) // Only for images the encoder cannot represent, which tests do not pass.
	}
	return buf.Bytes()
}

// TIFF encodes img as a TIFF, Deflate-compressed when deflate is set.
func TIFF(img image.Image, deflate bool) []byte {
	var buf bytes.Buffer
	opts := &tiff.Options{Compression: tiff.Uncompressed}
	if deflate {
		opts.Compression = tiff.Deflate
	}
	if err := tiff.Encode(&buf, img, opts); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// BMPHeaderOnly returns the headers of a 24-bit BMP declaring w x h pixels, with no pixel data: a
// decompression-bomb header.
func BMPHeaderOnly(w, h int32) []byte {
	b := BMP(image.NewRGBA(image.Rect(0, 0, 1, 1)))[:54] // file header (14) + BITMAPINFOHEADER (40)
	binary.LittleEndian.PutUint32(b[18:], uint32(w))
	binary.LittleEndian.PutUint32(b[22:], uint32(h))
	return b
}

// TIFFHeaderOnly returns an uncompressed TIFF whose first IFD declares w x h pixels, with the strip of a 1x1
// image: a decompression-bomb header.
func TIFFHeaderOnly(w, h uint32) []byte {
	b := TIFF(image.NewGray(image.Rect(0, 0, 1, 1)), false)
	ifd := binary.LittleEndian.Uint32(b[4:])
	n := int(binary.LittleEndian.Uint16(b[ifd:]))
	for i := range n {
		e := b[int(ifd)+2+12*i:]
		switch binary.LittleEndian.Uint16(e) {
		case 256: // ImageWidth
			putIFDValue(e, w)
		case 257: // ImageLength
			putIFDValue(e, h)
		}
	}
	return b
}

// putIFDValue stores v in a one-value IFD entry of type SHORT (3) or LONG (4).
func putIFDValue(e []byte, v uint32) {
	if binary.LittleEndian.Uint16(e[2:]) == 3 {
		binary.LittleEndian.PutUint16(e[2:], 4) // SHORT cannot hold 50000+; make it LONG
	}
	binary.LittleEndian.PutUint32(e[8:], v)
}

// WebPHeaderOnly returns a WebP file of one VP8X chunk declaring a w x h canvas (each at most 2^24), with no
// image data: a decompression-bomb header.
func WebPHeaderOnly(w, h uint32) []byte {
	vp8x := []byte{0, 0, 0, 0} // flags, reserved
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	chunk := append([]byte("VP8X"), binary.LittleEndian.AppendUint32(nil, uint32(len(vp8x)))...)
	chunk = append(chunk, vp8x...)
	body := append([]byte("WEBP"), chunk...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}
