// Package imaging is the image side of vitseg: safe decoding of untrusted
// photos into opaque RGB, resizing into the model's CHW float32 input, and
// turning the model's logits back into class masks, mask PNGs, overlays and
// statistics.
//
// Pre-processing: DecodeWith/Decode (JPEG, PNG, GIF first frame, WebP, BMP,
// TIFF; format
// from the magic bytes; byte and pixel limits checked from the header
// before any pixel is decoded; typed *Error refusals; EXIF orientation
// applied) and ToTensor (antialiased bilinear resize to size x size in
// fixed point, CHW float32 in [0, 1], no normalisation). JPEGs are decoded
// by libjpeg-turbo through its TurboJPEG API (cgo, libturbojpeg), at the
// smallest DCT scale that still covers the model's input when
// DecodeOptions.MinSize asks for it; the other formats by the standard
// library and golang.org/x/image.
//
// Post-processing: MaskFromLogits (argmax over CHW logits), UpsampledMask
// (the model's mask shown at the photo's size without building it: Stats,
// EncodePNG), ResizeMask (nearest neighbour), EncodeMaskPNG/DecodeMaskPNG
// (paletted PNG, 2 bits per pixel for the three classes, whose indices are
// the class ids), Overlay and ComputeStats.
//
// Colour policy: every decoded image is an opaque *image.RGBA. Alpha, where
// the input has any, is composited on black (the colour channels keep their
// alpha-premultiplied values and alpha is set to 255). For the opaque photos
// that make up the dataset this is identical to dropping the alpha channel,
// which is what PIL's Image.convert("RGB") does in the reference pipeline;
// for translucent pixels it is the only choice that does not expose the
// undefined colour of fully transparent pixels. Gray, 16-bit, paletted,
// CMYK and YCCK inputs are converted with the standard library's colour
// models (16-bit values keep their high byte). A GIF's transparent pixels,
// and the part of the screen its first frame does not cover, are black.
package imaging
