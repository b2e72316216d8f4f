package imaging

import (
	"image"
)

// decodeJPEG decodes a JPEG whose header (cfg, read by image/jpeg) has
// passed the limits, with libjpeg-turbo at the smallest power-of-two DCT
// scale whose output keeps both sides at minSide or more (full size when
// minSide <= 0). CMYK and YCCK JPEGs, which libjpeg cannot convert to RGB,
// go to image/jpeg at full size.
//
// libjpeg-turbo reads the header again; if it declares another size than
// the one the limits were checked on, the input is refused, so the limits
// always bound what is decoded.
func decodeJPEG(data []byte, cfg image.Config, minSide int) (img *image.RGBA, err error) {
	defer recoverCorrupt(FormatJPEG, &err)
	hdr, err := readTurboHeader(data)
	if err != nil {
		return nil, newError(KindCorrupt, err, "reading jpeg header")
	}
	if hdr.width != cfg.Width || hdr.height != cfg.Height {
		return nil, newError(KindCorrupt, nil, "jpeg headers disagree: %dx%d vs %dx%d",
			cfg.Width, cfg.Height, hdr.width, hdr.height)
	}
	if hdr.cmykLike() {
		return decodeStandard(FormatJPEG, data, cfg)
	}
	s := pickTurboScale(hdr.width, hdr.height, minSide, turboScales(), powerOfTwoScale)
	img, err = decodeTurbo(data, hdr, s, turboFlags)
	if err != nil {
		return nil, newError(KindCorrupt, err, "decoding jpeg")
	}
	return img, nil
}

// powerOfTwoScale keeps the scales 1/2, 1/4 and 1/8, whose reduced inverse
// DCTs are the fast ones: the other m/8 factors decoded the Oxford photos no
// faster (docs/PERFORMANCE.md §3).
func powerOfTwoScale(s turboScale) bool { return s.num == 1 && s.denom&(s.denom-1) == 0 }
