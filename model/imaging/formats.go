package imaging

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// The formats decoded by golang.org/x/image: WebP (lossy, lossless and
// with alpha; the first frame of none other, since animated WebP is refused
// by the decoder), BMP (uncompressed 1, 4, 8, 24 and 32 bits per pixel) and
// TIFF (the first image; uncompressed, PackBits, LZW, Deflate and CCITT).
// They go through the same limits-first path as the others: the header is
// read and its dimensions checked against Limits before any pixel is
// decoded.
const (
	FormatWebP Format = "webp"
	FormatBMP  Format = "bmp"
	FormatTIFF Format = "tiff"
)

// sniffMore returns the x/image format announced by header's magic bytes,
// or "".
func sniffMore(header []byte) Format {
	switch {
	case len(header) >= 12 && string(header[:4]) == "RIFF" && string(header[8:12]) == "WEBP":
		return FormatWebP
	case bytes.HasPrefix(header, []byte("II*\x00")), bytes.HasPrefix(header, []byte("MM\x00*")):
		return FormatTIFF
	case bytes.HasPrefix(header, []byte("BM")):
		return FormatBMP
	default:
		return ""
	}
}

// decodeConfigMore reads the header of an x/image format.
func decodeConfigMore(f Format, r io.Reader) (image.Config, error) {
	switch f {
	case FormatWebP:
		return webpConfig(r)
	case FormatBMP:
		return bmp.DecodeConfig(r)
	case FormatTIFF:
		return tiff.DecodeConfig(r)
	}
	return image.Config{}, newError(KindUnknownFormat, nil, "no decoder for %q", f)
}

// decodeImageMore decodes the pixels of an x/image format.
func decodeImageMore(f Format, r io.Reader) (image.Image, error) {
	switch f {
	case FormatWebP:
		return webp.Decode(r)
	case FormatBMP:
		return bmp.Decode(r)
	case FormatTIFF:
		return tiff.Decode(r)
	}
	return nil, newError(KindUnknownFormat, nil, "no decoder for %q", f)
}

// webpConfig reads a WebP header. A VP8X file declares its canvas in one
// chunk and the frame's own size in another, and the decoder allocates for
// the frame: a file whose frame differs from its canvas (a small canvas
// hiding a 16383x16383 frame, say) is refused, so that the limits checked on
// the canvas bound what is decoded.
func webpConfig(r io.Reader) (image.Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return image.Config{}, err
	}
	cfg, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return cfg, err
	}
	w, h, found := webpFrameSize(data)
	if found && (w != cfg.Width || h != cfg.Height) {
		return image.Config{}, fmt.Errorf("frame of %dx%d in a canvas of %dx%d", w, h, cfg.Width, cfg.Height)
	}
	return cfg, nil
}

// webpFrameSize returns the size declared by the first VP8 or VP8L chunk of
// a RIFF WebP file.
func webpFrameSize(data []byte) (w, h int, found bool) {
	for off := 12; off+8 <= len(data); {
		id, n := string(data[off:off+4]), int(binary.LittleEndian.Uint32(data[off+4:]))
		body := data[off+8:]
		if n < 0 || n > len(body) {
			return 0, 0, false
		}
		body = body[:n]
		switch {
		case id == "VP8 " && len(body) >= 10:
			return int(binary.LittleEndian.Uint16(body[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(body[8:]) & 0x3fff), true
		case id == "VP8L" && len(body) >= 5:
			bits := binary.LittleEndian.Uint32(body[1:])
			return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1, true
		}
		off += 8 + n + n&1
	}
	return 0, 0, false
}
