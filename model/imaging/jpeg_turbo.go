package imaging

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

// Each call owns its handle, so concurrent decodes share nothing. The
// TurboJPEG API reports every libjpeg error through its return value (it
// installs a setjmp error manager instead of libjpeg's exit()), and the
// message is copied into errbuf before the handle is destroyed.

static void vitseg_tj_error(tjhandle h, char *errbuf, int errlen, int *fatal) {
	const char *msg = h ? tjGetErrorStr2(h) : tjGetErrorStr2(NULL);
	strncpy(errbuf, msg ? msg : "unknown TurboJPEG error", errlen - 1);
	errbuf[errlen - 1] = 0;
	*fatal = h ? tjGetErrorCode(h) == TJERR_FATAL : 1;
}

static int vitseg_tj_header(const unsigned char *buf, unsigned long size, int *w, int *h,
		int *subsamp, int *colorspace, char *errbuf, int errlen, int *fatal) {
	tjhandle tj = tjInitDecompress();
	if (!tj) {
		vitseg_tj_error(NULL, errbuf, errlen, fatal);
		return -1;
	}
	int rc = tjDecompressHeader3(tj, buf, size, w, h, subsamp, colorspace);
	if (rc != 0) {
		vitseg_tj_error(tj, errbuf, errlen, fatal);
	}
	tjDestroy(tj);
	return rc;
}

static int vitseg_tj_decode(const unsigned char *buf, unsigned long size, unsigned char *dst,
		int w, int h, int flags, char *errbuf, int errlen, int *fatal) {
	tjhandle tj = tjInitDecompress();
	if (!tj) {
		vitseg_tj_error(NULL, errbuf, errlen, fatal);
		return -1;
	}
	int rc = tjDecompress2(tj, buf, size, dst, w, w * 4, h, TJPF_RGBA, flags);
	if (rc != 0) {
		vitseg_tj_error(tj, errbuf, errlen, fatal);
	}
	tjDestroy(tj);
	return rc;
}

static int vitseg_tj_scale(int i, int *num, int *denom) {
	int n = 0;
	tjscalingfactor *f = tjGetScalingFactors(&n);
	if (!f || i < 0 || i >= n) {
		return 0;
	}
	*num = f[i].num;
	*denom = f[i].denom;
	return 1;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

// turboFlags are the TurboJPEG decompression flags of every decode:
// warnings (truncated or corrupt entropy data) are errors, as they are for
// image/jpeg, and progressive images may have at most 500 scans (a
// progressive file with thousands of tiny scans is a CPU bomb). The DCT
// and chroma upsampling stay at libjpeg-turbo's accurate defaults
// (docs/PERFORMANCE.md §3 measures the fast variants).
const turboFlags = C.TJFLAG_STOPONWARNING | C.TJFLAG_LIMITSCANS

// The faster, less accurate variants, measured against the defaults.
const (
	turboFastUpsample = C.TJFLAG_FASTUPSAMPLE // nearest-neighbour chroma upsampling
	turboFastDCT      = C.TJFLAG_FASTDCT      // the fast integer inverse DCT
)

// turboHeader is what TurboJPEG reads from a JPEG header.
type turboHeader struct {
	width, height int
	colorspace    int // C.TJCS_*
}

// cmykLike reports whether libjpeg cannot convert the image to RGB itself.
func (h turboHeader) cmykLike() bool {
	return h.colorspace == C.TJCS_CMYK || h.colorspace == C.TJCS_YCCK
}

// errTurbo is a TurboJPEG failure; fatal is false for a warning promoted to
// an error by TJFLAG_STOPONWARNING.
type errTurbo struct {
	msg   string
	fatal bool
}

func (e *errTurbo) Error() string {
	if e.fatal {
		return "libjpeg-turbo: " + e.msg
	}
	return "libjpeg-turbo (warning treated as error): " + e.msg
}

func turboError(buf []C.char, fatal C.int) error {
	return &errTurbo{msg: C.GoString(&buf[0]), fatal: fatal != 0}
}

// readTurboHeader reads only the header of a JPEG.
func readTurboHeader(data []byte) (turboHeader, error) {
	if len(data) == 0 {
		return turboHeader{}, errors.New("no data")
	}
	var w, h, sub, cs, fatal C.int
	errbuf := make([]C.char, 200)
	rc := C.vitseg_tj_header((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), &w, &h, &sub, &cs,
		&errbuf[0], C.int(len(errbuf)), &fatal)
	if rc != 0 {
		return turboHeader{}, turboError(errbuf, fatal)
	}
	return turboHeader{width: int(w), height: int(h), colorspace: int(cs)}, nil
}

// turboScale is a DCT scaling factor num/denom.
type turboScale struct{ num, denom int }

// scaled is libjpeg's TJSCALED: the dimension rounded up.
func (s turboScale) scaled(dim int) int { return (dim*s.num + s.denom - 1) / s.denom }

// turboScales returns the library's scaling factors below 1/1, in the
// library's order; 1/1 (the full size) is the caller's fallback.
func turboScales() []turboScale {
	var out []turboScale
	for i := 0; ; i++ {
		var num, denom C.int
		if C.vitseg_tj_scale(C.int(i), &num, &denom) == 0 {
			return out
		}
		if num > 0 && denom > 0 && num < denom {
			out = append(out, turboScale{int(num), int(denom)})
		}
	}
}

// pickTurboScale returns the smallest scaling factor among scales whose
// output is at least minSide on both sides (1/1 when none is, or when
// minSide <= 0). allow filters the factors considered (nil: all).
func pickTurboScale(w, h, minSide int, scales []turboScale, allow func(turboScale) bool) turboScale {
	best := turboScale{1, 1}
	if minSide <= 0 {
		return best
	}
	for _, s := range scales {
		if allow != nil && !allow(s) {
			continue
		}
		if s.scaled(w) >= minSide && s.scaled(h) >= minSide &&
			s.num*best.denom < best.num*s.denom { // s < best
			best = s
		}
	}
	return best
}

// decodeTurbo decompresses data at scale s into a new opaque *image.RGBA
// (TurboJPEG writes alpha 0xFF). hdr must be readTurboHeader(data).
func decodeTurbo(data []byte, hdr turboHeader, s turboScale, flags int) (*image.RGBA, error) {
	w, h := s.scaled(hdr.width), s.scaled(hdr.height)
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("scaled size %dx%d", w, h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var fatal C.int
	errbuf := make([]C.char, 200)
	rc := C.vitseg_tj_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		(*C.uchar)(unsafe.Pointer(&img.Pix[0])), C.int(w), C.int(h), C.int(flags),
		&errbuf[0], C.int(len(errbuf)), &fatal)
	if rc != 0 {
		return nil, turboError(errbuf, fatal)
	}
	return img, nil
}
