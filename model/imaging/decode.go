package imaging

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
)

// Limits bound what Decode accepts. A zero or negative field takes its value
// from DefaultLimits.
type Limits struct {
	MaxBytes  int64 // largest accepted encoded size in bytes
	MaxPixels int64 // largest accepted width*height, as declared by the header
}

// DefaultLimits returns 32 MiB and 40,000,000 pixels, the defaults of
// `vitseg serve --max-image-bytes/--max-pixels`.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 32 << 20, MaxPixels: 40_000_000}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	return l
}

// Format is an encoded image format, named as by the image package.
type Format string

// The supported formats.
const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
	FormatGIF  Format = "gif"
)

// Sniff returns the format announced by the magic bytes at the start of
// header, or "" when they are not those of a supported format. File names
// and content types are never consulted: the dataset itself has a GIF and
// a PNG named .jpg.
func Sniff(header []byte) Format {
	switch {
	case bytes.HasPrefix(header, []byte("\xff\xd8\xff")):
		return FormatJPEG
	case bytes.HasPrefix(header, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(header, []byte("GIF87a")), bytes.HasPrefix(header, []byte("GIF89a")):
		return FormatGIF
	default:
		return sniffMore(header) // WebP, BMP, TIFF: formats.go
	}
}

// DecodeOptions configure DecodeWith. The zero value (plus Limits) decodes
// the full image and shows it upright.
type DecodeOptions struct {
	Limits Limits
	// MinSize > 0 allows a reduced Image, at least MinSize pixels on both
	// sides (or the full size when that is smaller): JPEGs are then decoded
	// at the smallest DCT scale (1/2, 1/4 or 1/8) that keeps both sides at
	// MinSize or more, which produces far fewer pixels. Other formats are
	// always decoded at full size.
	MinSize int
	// IgnoreOrientation keeps the stored pixels as they are instead of
	// applying the image's EXIF orientation.
	IgnoreOrientation bool
}

// Decoded is a decoded input image.
type Decoded struct {
	// Image is opaque (every alpha byte is 255) and its bounds are at the
	// origin. It is Width x Height unless DecodeOptions.MinSize allowed a
	// reduced decode. See the package comment for the alpha policy.
	Image  *image.RGBA
	Format Format // the format found in the magic bytes
	// Width and Height are the full size of the image as displayed: the
	// size declared by the header, swapped by an orientation that turns
	// the image by 90 degrees.
	Width, Height int
	// Orientation is the EXIF orientation that was applied (OrientNormal
	// when the image has none, or with DecodeOptions.IgnoreOrientation).
	Orientation Orientation
}

// Decode reads one JPEG, PNG, GIF (first frame), WebP, BMP or TIFF image from r, converts it
// to opaque RGB at full size and applies its EXIF orientation: DecodeWith
// with Limits lim.
//
// An error returned by r itself is wrapped with %w and is not an *Error, so
// that callers can tell a failed fetch (worth retrying) from a bad image
// (not).
func Decode(r io.Reader, lim Limits) (*Decoded, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("imaging: reading image: %w", err)
	}
	return DecodeWith(data, DecodeOptions{Limits: lim})
}

// DecodeWith decodes one JPEG, PNG, GIF (first frame), WebP, BMP or TIFF
// image held in data.
//
// It refuses an input longer than opts.Limits.MaxBytes before decoding
// anything; it then sniffs the format from the magic bytes, reads only the
// header to refuse zero dimensions and images of more than MaxPixels
// pixels, and only then decodes the pixels. JPEGs are decoded by
// libjpeg-turbo (CMYK and YCCK ones, which it cannot convert to RGB, by
// image/jpeg), PNG and GIF by the standard library, WebP, BMP and TIFF by
// golang.org/x/image.
//
// Every refusal that is a property of the input is an *Error (see Kind).
func DecodeWith(data []byte, opts DecodeOptions) (*Decoded, error) {
	lim := opts.Limits.withDefaults()
	if len(data) == 0 {
		return nil, newError(KindEmpty, nil, "no bytes")
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, newError(KindTooLarge, nil, "more than %d bytes", lim.MaxBytes)
	}
	f := Sniff(data)
	if f == "" {
		return nil, newError(KindUnknownFormat, nil, "%s", describeUnknown(data))
	}
	cfg, err := decodeConfig(f, data)
	if err != nil {
		return nil, err
	}
	if err := checkDimensions(f, cfg.Width, cfg.Height, lim.MaxPixels); err != nil {
		return nil, err
	}
	var rgba *image.RGBA
	if f == FormatJPEG {
		rgba, err = decodeJPEG(data, cfg, opts.MinSize)
	} else {
		rgba, err = decodeStandard(f, data, cfg)
	}
	if err != nil {
		return nil, err
	}
	orient := OrientNormal
	if !opts.IgnoreOrientation {
		orient = readOrientation(f, data)
	}
	w, h := orient.DisplaySize(cfg.Width, cfg.Height)
	return &Decoded{Image: orient.apply(rgba), Format: f, Width: w, Height: h, Orientation: orient}, nil
}

// decodeStandard decodes with the standard library's decoder of f (see
// decodeImage) at full size.
func decodeStandard(f Format, data []byte, cfg image.Config) (*image.RGBA, error) {
	img, err := decodeImage(f, data)
	if err != nil {
		return nil, err
	}
	return toOpaqueRGBA(img, cfg.Width, cfg.Height)
}

// checkDimensions refuses empty images and images with too many pixels.
func checkDimensions(f Format, w, h int, maxPixels int64) error {
	if w <= 0 || h <= 0 {
		return newError(KindCorrupt, nil, "%s header declares %dx%d pixels", f, w, h)
	}
	// Both factors are positive ints, so the int64 product cannot overflow
	// for any dimension a decoder can report (each is below 2^31).
	if n := int64(w) * int64(h); n > maxPixels {
		return newError(KindTooManyPixels, nil, "%s header declares %dx%d = %d pixels, limit %d",
			f, w, h, n, maxPixels)
	}
	return nil
}

// decodeConfig reads only the header. The standard decoders are guarded
// against panics as defence in depth; a panic becomes KindCorrupt.
func decodeConfig(f Format, data []byte) (cfg image.Config, err error) {
	defer recoverCorrupt(f, &err)
	r := bytes.NewReader(data)
	switch f {
	case FormatJPEG:
		cfg, err = jpeg.DecodeConfig(r)
	case FormatPNG:
		cfg, err = png.DecodeConfig(r)
	case FormatGIF:
		cfg, err = gif.DecodeConfig(r)
	default:
		cfg, err = decodeConfigMore(f, r)
	}
	if err != nil {
		return image.Config{}, newError(KindCorrupt, err, "reading %s header", f)
	}
	return cfg, nil
}

// decodeImage decodes the pixels; for GIF only the first frame is decoded.
func decodeImage(f Format, data []byte) (img image.Image, err error) {
	defer recoverCorrupt(f, &err)
	r := bytes.NewReader(data)
	switch f {
	case FormatJPEG:
		img, err = jpeg.Decode(r)
	case FormatPNG:
		img, err = png.Decode(r)
	case FormatGIF:
		img, err = gif.Decode(r)
	default:
		img, err = decodeImageMore(f, r)
	}
	if err != nil {
		return nil, newError(KindCorrupt, err, "decoding %s", f)
	}
	return img, nil
}

func recoverCorrupt(f Format, err *error) {
	if p := recover(); p != nil {
		*err = newError(KindCorrupt, nil, "%s decoder panicked: %v", f, p)
	}
}

// toOpaqueRGBA converts img to an opaque *image.RGBA with bounds (0,0)-(w,h),
// compositing alpha on black. The image is placed at its own bounds inside
// the canvas: for a GIF whose first frame is smaller than the logical screen
// the rest stays black. Bounds outside the canvas are an error (the standard
// decoders never produce them).
func toOpaqueRGBA(img image.Image, w, h int) (*image.RGBA, error) {
	canvas := image.Rect(0, 0, w, h)
	b := img.Bounds()
	if !b.In(canvas) {
		return nil, newError(KindCorrupt, nil, "decoded bounds %v outside declared %v", b, canvas)
	}
	dst := image.NewRGBA(canvas)
	drawOpaque(dst, b, img, b.Min)
	return dst, nil
}

// drawOpaque draws src onto the zeroed dst like draw.Draw with draw.Src and
// then makes all of dst opaque. Op Src into a zeroed destination stores
// alpha-premultiplied colour, i.e. the colour composited on black. The
// standard library has fast paths for *image.YCbCr, *image.Gray,
// *image.CMYK, *image.RGBA and *image.NRGBA (everything but 16-bit PNGs);
// paletted images (GIF, PNG) go through a lookup table here.
func drawOpaque(dst *image.RGBA, r image.Rectangle, src image.Image, sp image.Point) {
	if p, ok := src.(*image.Paletted); ok {
		drawPaletted(dst, r, p, sp)
	} else {
		draw.Draw(dst, r, src, sp, draw.Src)
	}
	for i := 3; i < len(dst.Pix); i += 4 {
		dst.Pix[i] = 0xff
	}
}

// drawPaletted copies the r.Size() pixels of src at sp to r in dst through a
// 256-entry lookup table of premultiplied colours; indices outside the
// palette become transparent black. r must lie in dst and the source
// rectangle in src.
func drawPaletted(dst *image.RGBA, r image.Rectangle, src *image.Paletted, sp image.Point) {
	var lut [256][4]uint8
	for i, c := range src.Palette {
		if i >= len(lut) {
			break
		}
		rgba := color.RGBAModel.Convert(c).(color.RGBA)
		lut[i] = [4]uint8{rgba.R, rgba.G, rgba.B, rgba.A}
	}
	w := r.Dx()
	for y := 0; y < r.Dy(); y++ {
		s := src.Pix[src.PixOffset(sp.X, sp.Y+y):][:w]
		d := dst.Pix[dst.PixOffset(r.Min.X, r.Min.Y+y):][:4*w]
		for x, idx := range s {
			copy(d[4*x:4*x+4], lut[idx][:])
		}
	}
}

// describeUnknown names a few formats the pipeline is likely to meet, to make
// refusals clearer; it shows the first bytes in hex otherwise.
func describeUnknown(data []byte) string {
	switch {
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		return "ISO media (HEIC/AVIF) is not supported"
	case bytes.HasPrefix(data, []byte("MATLAB")):
		return "MATLAB .mat file, not an image"
	}
	n := min(len(data), 8)
	return "unrecognised magic bytes " + hex.EncodeToString(data[:n])
}
