package imaging

import (
	"bytes"
	"fmt"
)

// DecodeTrimap decodes an Oxford-IIIT Pet trimap PNG (1 pet, 2 background, 3 border; 8-bit gray or paletted)
// into a mask of class ids (0 pet, 1 background, 2 border), at the photo's own size. It is DecodeMaskPNG, with
// its input bounds, and the trimap's value check. Training reads its labels with it, and serve scores masks
// against the labels that arrive later.
func DecodeTrimap(b []byte) (*Mask, error) {
	m, err := DecodeMaskPNG(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode trimap: %w", err)
	}
	for i, v := range m.Pix {
		if v < 1 || v > 3 {
			return nil, fmt.Errorf("trimap value %d at (%d,%d) is not 1, 2 or 3", v, i%m.Width, i/m.Width)
		}
		m.Pix[i] = v - 1
	}
	return m, nil
}
