package imaging

import (
	"bytes"
	"encoding/binary"
	"image"
)

// Orientation is the EXIF Orientation tag (0x0112): how the stored pixels
// must be transformed to be shown upright. Values 1..8 as in EXIF 2.3
// §4.6.4; 1 is the identity.
type Orientation uint8

// The eight EXIF orientations, named by the transform that displays them.
const (
	OrientNormal     Orientation = 1 // as stored
	OrientFlipH      Orientation = 2 // mirrored left-right
	OrientRotate180  Orientation = 3
	OrientFlipV      Orientation = 4 // mirrored top-bottom
	OrientTranspose  Orientation = 5 // mirrored along the top-left to bottom-right diagonal
	OrientRotate90   Orientation = 6 // rotate 90° clockwise to display (phone portrait photos)
	OrientTransverse Orientation = 7 // mirrored along the top-right to bottom-left diagonal
	OrientRotate270  Orientation = 8 // rotate 90° counter-clockwise to display
)

// Valid reports whether o is one of the eight EXIF orientations.
func (o Orientation) Valid() bool { return o >= OrientNormal && o <= OrientRotate270 }

// SwapsAxes reports whether o turns a w x h image into an h x w one.
func (o Orientation) SwapsAxes() bool { return o >= OrientTranspose && o <= OrientRotate270 }

// DisplaySize returns the size of a w x h stored image once o is applied.
func (o Orientation) DisplaySize(w, h int) (int, int) {
	if o.SwapsAxes() {
		return h, w
	}
	return w, h
}

// source returns the stored pixel (sx, sy) shown at (x, y) of the displayed
// image; w and h are the stored size.
func (o Orientation) source(x, y, w, h int) (sx, sy int) {
	switch o {
	case OrientFlipH:
		return w - 1 - x, y
	case OrientRotate180:
		return w - 1 - x, h - 1 - y
	case OrientFlipV:
		return x, h - 1 - y
	case OrientTranspose:
		return y, x
	case OrientRotate90:
		return y, h - 1 - x
	case OrientTransverse:
		return w - 1 - y, h - 1 - x
	case OrientRotate270:
		return w - 1 - y, x
	default:
		return x, y
	}
}

// apply returns img transformed by o into a new image with bounds at the
// origin (img itself when o is the identity or not valid).
func (o Orientation) apply(img *image.RGBA) *image.RGBA {
	if o == OrientNormal || !o.Valid() {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := o.DisplaySize(w, h)
	out := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		row := out.Pix[y*out.Stride:][:4*dw]
		for x := range dw {
			sx, sy := o.source(x, y, w, h)
			copy(row[4*x:4*x+4], img.Pix[img.PixOffset(b.Min.X+sx, b.Min.Y+sy):])
		}
	}
	return out
}

// readOrientation returns the EXIF orientation stored in an image of
// format f, or OrientNormal when it has none or it cannot be read: a broken
// EXIF block never makes a photo undecodable. Formats that can carry an
// orientation each add their reader here.
func readOrientation(f Format, data []byte) Orientation {
	var o Orientation
	switch f {
	case FormatJPEG:
		o = jpegOrientation(data)
	case FormatTIFF:
		o = tiffOrientation(data) // the TIFF tag EXIF's orientation is
	}
	if !o.Valid() {
		return OrientNormal
	}
	return o
}

// jpegOrientation finds the first APP1 "Exif" segment before the first
// scan and reads the orientation of its IFD0.
func jpegOrientation(data []byte) Orientation {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return 0
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			return 0
		}
		marker := data[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01: // no length
			i += 2
			continue
		case marker == 0xda || marker == 0xd9: // start of scan, end of image
			return 0
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 0
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 0
}

// tiffOrientation reads tag 0x0112 of IFD0 of a TIFF structure (the body of
// an EXIF block, or a TIFF file).
func tiffOrientation(t []byte) Orientation {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 0
	}
	entries := int64(bo.Uint16(t[ifd:]))
	for e := range entries {
		off := ifd + 2 + 12*e
		if off+12 > int64(len(t)) {
			return 0
		}
		ent := t[off : off+12]
		if bo.Uint16(ent) != 0x0112 {
			continue
		}
		const typeShort = 3
		if bo.Uint16(ent[2:]) != typeShort || bo.Uint32(ent[4:]) != 1 {
			return 0
		}
		if v := bo.Uint16(ent[8:]); v <= uint16(OrientRotate270) {
			return Orientation(v)
		}
		return 0
	}
	return 0
}
